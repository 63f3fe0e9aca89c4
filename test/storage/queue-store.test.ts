/** The delivery queue storage contract on SQLite and PostgreSQL (the suite is in helpers/queue-contract.ts). */
import { queueContract } from '../helpers/queue-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(queueContract);
