/** The attempt history storage contract on SQLite and PostgreSQL (the suite is in helpers/attempts-contract.ts). */
import { attemptHistoryContract } from '../helpers/attempts-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(attemptHistoryContract);
