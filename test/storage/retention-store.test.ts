/** The retention purge contract on SQLite and PostgreSQL (the suite is in helpers/retention-contract.ts). */
import { retentionContract } from '../helpers/retention-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(retentionContract);
