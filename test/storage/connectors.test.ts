/** The connectors storage contract on SQLite and PostgreSQL (the suite is in helpers/connectors-contract.ts). */
import { connectorsContract } from '../helpers/connectors-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(connectorsContract);
