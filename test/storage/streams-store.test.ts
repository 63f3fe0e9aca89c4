/** The stream storage contract on SQLite and PostgreSQL, sealing at rest (the suite is in helpers/streams-contract.ts). */
import { SecretBox } from '../../src/security/crypto.js';
import { streamStoreContract } from '../helpers/streams-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases((name, make) => streamStoreContract(name, () => make(new SecretBox([Buffer.alloc(32, 7)]))));
