import { Component, lazy, Suspense, useEffect, type ReactNode } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes } from 'react-router-dom';
import { GraphqlProvider } from './lib/graphql';
import { SessionProvider, useSession } from './lib/session';
import { getSocket } from './lib/socket';
import { Button, ConnectionBadge, ErrorState, Loading, Toaster } from './lib/ui';
import { UnreadProvider, useUnread } from './shell/unread';
import SignIn from './shell/SignIn';

// Every page is its own chunk: the first load is the shell, sign-in and the page you land on.
const Chat = lazy(() => import('./pages/Chat'));
const Notifications = lazy(() => import('./pages/Notifications'));
const Wallet = lazy(() => import('./pages/Wallet'));
const Trading = lazy(() => import('./pages/Trading'));
const P2P = lazy(() => import('./pages/P2P'));
const Videos = lazy(() => import('./pages/Videos'));
const VideoPlayer = lazy(() => import('./pages/VideoPlayer'));
const Creator = lazy(() => import('./pages/Creator'));
const Battles = lazy(() => import('./pages/Battles'));
const Admin = lazy(() => import('./pages/Admin'));

/** A page that throws (or fails to load its chunk) shows an error state instead of a blank screen. */
class PageBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render() {
    if (this.state.error) return <ErrorState error={this.state.error} retry={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}

const NAV: { to: string; label: string }[] = [
  { to: '/chat', label: 'Chat' },
  { to: '/wallet', label: 'Wallet' },
  { to: '/trading', label: 'Trading' },
  { to: '/p2p', label: 'P2P' },
  { to: '/videos', label: 'Videos' },
  { to: '/creator', label: 'Creator' },
  { to: '/battles', label: 'Battles' },
];

function NotificationsLink() {
  const { count } = useUnread();
  return (
    <NavLink to="/notifications" className="notif-link" aria-label={`Notifications (${count} unread)`}>
      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      <span className="notif-text">Notifications</span>
      <span className={`count${count ? '' : ' zero'}`} aria-hidden="true">
        {count}
      </span>
    </NavLink>
  );
}

function Shell() {
  const { user, signOut } = useSession();
  // Open the Socket.IO connection as soon as someone is signed in (presence, seed events).
  useEffect(() => {
    if (user) getSocket();
  }, [user]);
  if (!user) return <SignIn />;
  const isAdmin = user.roles.includes('admin');
  return (
    <UnreadProvider>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">Softchat</div>
        <nav aria-label="Main" className="mainnav">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to}>
              {n.label}
            </NavLink>
          ))}
          {isAdmin && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <div className="me">
          <NotificationsLink />
          <ConnectionBadge />
          <span className="username" title={user.email}>
            {user.username}
          </span>
          <Button variant="ghost" onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      </header>
      <main id="main" className="content">
        <PageBoundary>
          <Suspense fallback={<Loading />}>
            <Routes>
              <Route path="/" element={<Navigate to="/chat" replace />} />
              <Route path="/chat" element={<Chat />} />
              <Route path="/chat/:roomId" element={<Chat />} />
              <Route path="/notifications" element={<Notifications />} />
              <Route path="/wallet" element={<Wallet />} />
              <Route path="/trading" element={<Trading />} />
              <Route path="/trading/:pairId" element={<Trading />} />
              <Route path="/p2p/*" element={<P2P />} />
              <Route path="/videos" element={<Videos />} />
              <Route path="/videos/:videoId" element={<VideoPlayer />} />
              <Route path="/creator" element={<Creator />} />
              <Route path="/creator/:creatorId" element={<Creator />} />
              <Route path="/battles" element={<Battles />} />
              <Route path="/battles/:battleId" element={<Battles />} />
              <Route path="/admin/*" element={isAdmin ? <Admin /> : <Navigate to="/chat" replace />} />
              <Route path="*" element={<Navigate to="/chat" replace />} />
            </Routes>
          </Suspense>
        </PageBoundary>
      </main>
    </UnreadProvider>
  );
}

export default function App() {
  return (
    <SessionProvider>
      <GraphqlProvider>
        <BrowserRouter>
          <Shell />
        </BrowserRouter>
        <Toaster />
      </GraphqlProvider>
    </SessionProvider>
  );
}
