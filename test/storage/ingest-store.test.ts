/** The ingest storage contract on SQLite and PostgreSQL, sealing at rest (the suite is in helpers/ingest-store-contract.ts). */
import { SecretBox } from '../../src/security/crypto.js';
import { ingestStoreContract } from '../helpers/ingest-store-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases((name, make) => ingestStoreContract(name, () => make(new SecretBox([Buffer.alloc(32, 7)]))));
