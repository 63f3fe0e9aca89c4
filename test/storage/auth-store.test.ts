/** The credential storage contract on SQLite and PostgreSQL, sealing secrets under a key (the suite is in helpers/auth-store-contract.ts). */
import { authStoreContract } from '../helpers/auth-store-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases((name, make) => authStoreContract(name, (box) => make(box)));
