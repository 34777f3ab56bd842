import { useSession } from '../lib/session';
import { Page } from '../lib/ui';
import { hasRole } from './live';
import { Disputes } from './admin/Disputes';
import { RulesEditor } from './admin/RulesEditor';
import { SendNotification } from './admin/SendNotification';
import './features.css';

/** `/admin`: reward rules, notifications, the dispute queue and the queue dashboard (admins only). */
export default function Admin() {
  const { user } = useSession();
  if (!hasRole(user, 'admin')) {
    return (
      <Page title="Admin">
        <p className="state error" role="alert">
          Not allowed: this page is for admins only.
        </p>
      </Page>
    );
  }
  return (
    <Page
      title="Admin"
      actions={
        // Served by the server (BullMQ dashboard, HTTP Basic with an admin's email and password), not by the router.
        <a href="/admin/queues" title="Asks for your admin email and password">
          Queue dashboard
        </a>
      }
    >
      <RulesEditor />
      <div className="grid grid-2">
        <SendNotification />
        <Disputes />
      </div>
    </Page>
  );
}
