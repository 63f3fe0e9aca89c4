/** The message storage contract on SQLite and PostgreSQL (the suite is in helpers/messages-contract.ts). */
import { messagesContract } from '../helpers/messages-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(messagesContract);
