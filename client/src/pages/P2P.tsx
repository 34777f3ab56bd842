import { useState } from 'react';
import { Route, Routes } from 'react-router-dom';
import { Page } from '../lib/ui';
import { EscrowPage } from './p2p/EscrowPage';
import { MyTrades } from './p2p/MyTrades';
import { OfferForm } from './p2p/OfferForm';
import { OffersPanel } from './p2p/OffersPanel';
import './features.css';

/** `/p2p`: offers, posting, my trades; `/p2p/trades/:escrowId`: one trade. */
export default function P2P() {
  return (
    <Routes>
      <Route index element={<Market />} />
      <Route path="trades/:escrowId" element={<EscrowPage />} />
    </Routes>
  );
}

function Market() {
  const [version, setVersion] = useState(0);
  return (
    <Page title="P2P">
      <div className="grid grid-side-wide">
        <OffersPanel refreshKey={version} />
        <div className="stack">
          <OfferForm onCreated={() => setVersion((v) => v + 1)} />
          <MyTrades refreshKey={version} />
        </div>
      </div>
    </Page>
  );
}
