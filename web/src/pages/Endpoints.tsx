/** The application's endpoints. */
import { useState } from 'react';
import { enc, qs } from '../api';
import type { ListResponse } from '../api';
import { useSession } from '../context';
import { LIVE_MS, useApi } from '../hooks';
import { Link } from '../router';
import type { Endpoint } from '../types';
import { Async, Badge, Empty, PageHeader, Time } from '../components/ui';
import { Pager } from './Applications';

export function Endpoints({ appId }: { appId: string }) {
  const { canWrite } = useSession();
  const [iterator, setIterator] = useState<string | undefined>(undefined);
  const list = useApi<ListResponse<Endpoint>>(`/api/v1/app/${enc(appId)}/endpoint${qs({ limit: 50, iterator })}`, LIVE_MS);
  const addLink = canWrite ? (
    <Link to={`/app/${enc(appId)}/endpoints/new`} className="btn primary">
      Add endpoint
    </Link>
  ) : null;
  return (
    <>
      <PageHeader title="Endpoints" sub="URLs that receive this application's messages as signed webhooks." actions={addLink} />
      <Async state={list}>
        {(page) =>
          page.data.length === 0 && !iterator ? (
            <Empty title="No endpoints yet">{canWrite ? <p>Add an endpoint to start receiving webhooks.</p> : <p>No endpoint has been set up.</p>}</Empty>
          ) : (
            <>
              <ul className="rows" aria-label="Endpoints">
                {page.data.map((ep) => (
                  <li key={ep.id} className="row">
                    <div className="row-main">
                      <Link to={`/app/${enc(appId)}/endpoints/${enc(ep.id)}`} className="row-title url">
                        {ep.url}
                      </Link>
                      <p className="muted">{ep.description || <span className="mono">{ep.id}</span>}</p>
                    </div>
                    <div className="row-side">
                      {ep.disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="ok">Enabled</Badge>}
                      <span className="muted">{ep.filterTypes?.length ? `${ep.filterTypes.length} event type${ep.filterTypes.length === 1 ? '' : 's'}` : 'all event types'}</span>
                      <span className="muted">
                        created <Time iso={ep.createdAt} />
                      </span>
                    </div>
                  </li>
                ))}
              </ul>
              <Pager page={page} iterator={iterator} setIterator={setIterator} />
            </>
          )
        }
      </Async>
    </>
  );
}
