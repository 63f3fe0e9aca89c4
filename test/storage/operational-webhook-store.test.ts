/** The operational webhook storage contract on SQLite and PostgreSQL (the suite is in helpers/operational-store-contract.ts). */
import { operationalStoreContract } from '../helpers/operational-store-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(operationalStoreContract);
