/** Maps the path to a page; app-scoped sessions only ever reach their own application. */
import { useEffect } from 'react';
import { enc } from './api';
import { useSession } from './context';
import { match, navigate, useLocation } from './router';
import { Empty } from './components/ui';
import { Applications } from './pages/Applications';
import { AppOverview } from './pages/AppOverview';
import { Endpoints } from './pages/Endpoints';
import { EndpointForm } from './pages/EndpointForm';
import { EndpointDetail } from './pages/EndpointDetail';
import { Messages } from './pages/Messages';
import { MessageDetail } from './pages/MessageDetail';
import { EventTypes } from './pages/EventTypes';
import { Pollers } from './pages/Pollers';
import { Sources } from './pages/Sources';
import { SourceDetail } from './pages/SourceDetail';
import { Tasks } from './pages/Tasks';
import { Streams } from './pages/Streams';
import { StreamDetail } from './pages/StreamDetail';

function NotFound() {
  return (
    <Empty title="Page not found">
      <p>There is nothing at this address.</p>
    </Empty>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

export function Routes() {
  const path = useLocation();
  const { scope } = useSession();
  const m = (p: string) => match(p, path);
  let r: Record<string, string> | null;

  if ((r = m('/app/:appId')) || (r = m('/app/:appId/:section')) || (r = m('/app/:appId/:section/:id')) || (r = m('/app/:appId/:section/:id/:action'))) {
    const appId = r.appId!;
    // Another application's pages are never requested with an app-scoped token.
    if (scope.kind === 'app' && appId !== scope.appId) {
      return (
        <Empty title="Application not found">
          <p>This application does not exist or is not available with your access.</p>
        </Empty>
      );
    }
  }

  if (m('/')) return scope.kind === 'admin' ? <Applications /> : <Redirect to={`/app/${enc(scope.appId)}`} />;
  if (m('/event-types')) return <EventTypes />;
  if (scope.kind === 'admin') {
    if (m('/sources')) return <Sources />;
    if ((r = m('/sources/:sourceId'))) return <SourceDetail sourceId={r.sourceId!} />;
    if (m('/tasks')) return <Tasks />;
    if (m('/streams')) return <Streams />;
    if ((r = m('/streams/:streamId'))) return <StreamDetail streamId={r.streamId!} />;
  }
  if ((r = m('/app/:appId'))) return <AppOverview appId={r.appId!} />;
  if ((r = m('/app/:appId/endpoints'))) return <Endpoints appId={r.appId!} />;
  if ((r = m('/app/:appId/endpoints/new'))) return <EndpointForm appId={r.appId!} />;
  if ((r = m('/app/:appId/endpoints/:epId'))) return <EndpointDetail appId={r.appId!} epId={r.epId!} />;
  if ((r = m('/app/:appId/endpoints/:epId/edit'))) return <EndpointForm appId={r.appId!} epId={r.epId} />;
  if ((r = m('/app/:appId/messages'))) return <Messages appId={r.appId!} />;
  if ((r = m('/app/:appId/messages/:msgId'))) return <MessageDetail appId={r.appId!} msgId={r.msgId!} />;
  if ((r = m('/app/:appId/pollers'))) return <Pollers appId={r.appId!} />;
  return <NotFound />;
}
