import { useEffect, useState } from 'react';
import { QRCodeSVG } from 'qrcode.react';
import { api } from '../../lib/api';
import { useUser } from '../../lib/session';
import { Button, Empty, ErrorState, Loading, toast } from '../../lib/ui';

type Address = { asset: string; network: string; address: string };

export async function copy(text: string, what: string) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied`);
  } catch {
    toast(`Could not copy: select the text and copy it by hand`, 'error');
  }
}

/** Deposit addresses (stable per user and asset) with a copy button and a QR code. */
export function Addresses() {
  const me = useUser();
  const [state, setState] = useState<{ items?: Address[]; error?: unknown }>({});
  const load = () => {
    setState({});
    api<Address[]>(`/wallet/${me.id}/addresses`)
      .then((items) => setState({ items }))
      .catch((error) => setState({ error }));
  };
  useEffect(load, [me.id]);

  return (
    <section className="card stack" aria-labelledby="addr-h">
      <h2 id="addr-h">Deposit addresses</h2>
      {!state.items && !state.error && <Loading />}
      {state.error != null && <ErrorState error={state.error} retry={load} />}
      {state.items?.length === 0 && <Empty>No deposit addresses for your account.</Empty>}
      <ul className="list">
        {state.items?.map((a) => (
          <li key={`${a.asset}-${a.network}`} className="address">
            <QRCodeSVG value={a.address} size={96} className="qr" role="img" aria-label={`QR code of the ${a.asset} deposit address`} />
            <div className="stack">
              <strong>
                {a.asset} <span className="muted">({a.network})</span>
              </strong>
              <code>{a.address}</code>
              <Button onClick={() => void copy(a.address, `${a.asset} address`)} aria-label={`Copy ${a.asset} address`}>
                Copy
              </Button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
