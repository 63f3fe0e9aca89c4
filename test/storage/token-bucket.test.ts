/** The endpoint rate limit contract on SQLite and PostgreSQL (the suite is in helpers/token-bucket-contract.ts). */
import { tokenBucketContract } from '../helpers/token-bucket-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(tokenBucketContract);
