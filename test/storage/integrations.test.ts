/** The integrations storage contract on SQLite and PostgreSQL (the suite is in helpers/integrations-contract.ts). */
import { integrationsContract } from '../helpers/integrations-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(integrationsContract);
