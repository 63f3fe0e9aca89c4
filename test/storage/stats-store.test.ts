/** The statistics contracts (queue counts, an application's attempt statistics) on SQLite and PostgreSQL (suites in helpers/). */
import { appStatsContract } from '../helpers/app-stats-contract.js';
import { queueStatsContract } from '../helpers/queue-stats-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(queueStatsContract);
onBothDatabases(appStatsContract);
