/** The catalog storage contract on SQLite and PostgreSQL (the suite is in helpers/catalog-contract.ts). */
import { catalogContract } from '../helpers/catalog-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(catalogContract);
