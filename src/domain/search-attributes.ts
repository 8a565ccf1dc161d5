import { defineSearchAttributeKey } from '@temporalio/common';

// Custom search attributes the Temporal UI filters deliveries by. Registered by `npm start` / the test stack
// (--search-attribute) and by the compose stack's setup step.
export const SA_WEBHOOK_ID = defineSearchAttributeKey('HookrelayWebhookId', 'KEYWORD');
export const SA_EVENT_TYPE = defineSearchAttributeKey('HookrelayEventType', 'KEYWORD');
export const SA_ORG_ID = defineSearchAttributeKey('HookrelayOrgId', 'KEYWORD');
export const SA_STATUS = defineSearchAttributeKey('HookrelayStatus', 'KEYWORD');
