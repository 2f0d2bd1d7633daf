// Entity types as the sandbox stores them. Stored records are close to the wire shape; the
// few fields that collide with base `type` (ticket type, contact kind) are renamed here and
// mapped back in present.ts. `_sandbox` holds bookkeeping that the real API never returns.

export interface Ref {
  id: number;
  type: string;
  meta?: Record<string, unknown>;
}

export type EntityState = 'active' | 'deleted' | 'temp';

export interface Base {
  id: number;
  type: string;
  createdAt: string;
  updatedAt: string;
  createdBy: Ref | null;
  updatedBy: Ref | null;
  state: EntityState;
}

export interface User extends Base {
  type: 'users';
  firstName: string;
  lastName: string;
  email: string;
  role: 'admin' | 'agent';
  /** Sandbox field: agents created by invite (v2 POST or v1 import) stay "invited" until accepted. */
  status: 'active' | 'invited';
  avatarURL: string;
}

export interface Contact extends Base {
  type: 'contacts';
  /** Wire field `type` ("email", "twitter", ...). */
  contactType: string;
  value: string;
  isMain: boolean;
  customer: Ref;
}

export interface Customer extends Base {
  type: 'customers';
  firstName: string;
  lastName: string;
  email: string;
  jobTitle: string;
  phone: string;
  mobile: string;
  address: string;
  avatarURL: string;
  organization: string;
  extraData: string;
  notes: string;
  externalId: string;
  linkedinURL: string;
  facebookURL: string;
  twitterHandle: string;
  trusted: boolean;
  contacts: Ref[];
  companies: Ref[];
}

export interface Company extends Base {
  type: 'companies';
  name: string;
  description: string;
  details: string;
  industry: string;
  website: string;
  permission: string;
  kind: string;
  note: string;
  domains: Ref[];
}

export interface Domain extends Base {
  type: 'domains';
  name: string;
  company: Ref;
}

export interface Inbox extends Base {
  type: 'inboxes';
  name: string;
  localPart: string;
  email: string;
  users: Ref[];
  autoReplyEnabled: boolean;
  happinessRatingEnabled: boolean;
  ticketstatus: Ref | null;
}

export interface CustomFieldValue {
  id: number;
  type: 'customfields';
  meta: { value: unknown };
}

export interface Ticket extends Base {
  type: 'tickets';
  subject: string;
  previewText: string;
  status: Ref;
  priority: Ref | null;
  /** Wire field `type` (the ticket type ref). */
  ticketType: Ref | null;
  source: Ref | null;
  agent: Ref | null;
  customer: Ref;
  inbox: Ref;
  tags: Ref[];
  files: Ref[];
  messages: Ref[];
  customfields: CustomFieldValue[];
  cc: string[];
  bcc: string[];
  notifyCustomer: boolean;
  messageCount: number;
  isRead: boolean;
  originalRecipient: string;
  _sandbox: { importSource?: string; importId?: number; via: 'v2' | 'import' };
}

export interface Message extends Base {
  type: 'messages';
  ticket: Ref;
  threadType: 'message' | 'note';
  message: string;
  htmlBody: string;
  editMethod: string;
  cc: string[];
  bcc: string[];
  files: Ref[];
  isDraft: boolean;
  isPinned: boolean;
  status: Ref | null;
  deliveryStatus: string;
}

export interface FileEntity extends Base {
  type: 'files';
  fileName: string;
  mimeType: string;
  size: number;
  disposition: 'attachment' | 'attachment-inline';
  _sandbox: {
    uploadKey: string;
    uploaded: boolean;
    sha256: string | null;
    sourceUrl?: string;
    ticketId?: number;
    messageId?: number;
  };
}

export interface Tag extends Base {
  type: 'tags';
  name: string;
  color: string;
}

export interface TicketStatus extends Base {
  type: 'ticketstatuses';
  name: string;
  code: string;
  color: string;
  isCustom: boolean;
}

export interface TicketPriority extends Base {
  type: 'ticketpriorities';
  name: string;
  color: string;
}

export interface TicketTypeEntity extends Base {
  type: 'tickettypes';
  name: string;
  inboxes: Ref[];
  enabledForFutureInboxes: boolean;
}

export interface TicketSource extends Base {
  type: 'ticketsources';
  name: string;
  isCustom: boolean;
}

export type CustomFieldKind = 'dropdown' | 'text' | 'number' | 'date' | 'checkbox' | 'multiselect';

export interface CustomField extends Base {
  type: 'customfields';
  agentLabel: string;
  customerLabel: string;
  description: string;
  kind: CustomFieldKind;
  agentRequired: boolean;
  customerRequired: boolean;
  enabled: boolean;
  addToNewInboxes: boolean;
  inboxes: Ref[];
  options: Ref[];
  apps: unknown[];
}

export interface CustomFieldOption extends Base {
  type: 'customfieldoptions';
  name: string;
  displayOrder: number;
  customfield: Ref;
}

export interface HelpDocsSite extends Base {
  type: 'helpdocssites';
  name: string;
  description: string;
  subdomain: string;
  customDomain: string;
  publicSiteEnabled: boolean;
  languageCode: string;
  editMethod: string;
}

export interface HelpDocsCategory extends Base {
  type: 'helpdocscategories';
  name: string;
  slug: string;
  parent_id: number | null;
  helpDocsSites_id: number;
  displayOrder: number;
  oldURL: string;
  displayOnDocHomepage: boolean;
}

export interface HelpDocArticle extends Base {
  type: 'helpdocarticles';
  title: string;
  contents: string;
  description: string;
  status: string;
  isPrivate: boolean;
  categories: number[];
  relatedArticles: number[];
  slug: string;
  oldURL: string;
  displayOrder: number;
  editMethod: string;
  disqusEnabled: boolean;
  popularity: number;
  site: Ref;
}

/**
 * A trigger (teamwork-desk-api.md §11). Its wire `state` is the UI's Active toggle — "active" or
 * (the sandbox's reading of the undocumented non-active value) "inactive" — and its wire `type`
 * is "Automatic" or "Manual"; both shadow the base fields, as `type` does on tickets. A deleted
 * trigger has the base state "deleted" and is gone from the API.
 */
export interface Trigger extends Base {
  type: 'triggers';
  name: string;
  description: string;
  /** Wire field `state`. */
  triggerState: 'active' | 'inactive';
  /** Wire field `type`. */
  triggerType: 'Automatic' | 'Manual';
  inboxes: Ref[];
  agentHasAccess: boolean;
  isShared: boolean;
  addToNewInboxes: boolean;
  triggeractions: Record<string, unknown>[];
  conditions: Record<string, unknown>[];
  /** How many writes asked to apply the trigger to existing tickets (a migration must never). */
  _sandbox: { appliedToExisting: number };
}

export interface Tables {
  users: User;
  customers: Customer;
  contacts: Contact;
  companies: Company;
  domains: Domain;
  inboxes: Inbox;
  tickets: Ticket;
  messages: Message;
  files: FileEntity;
  tags: Tag;
  ticketstatuses: TicketStatus;
  ticketpriorities: TicketPriority;
  tickettypes: TicketTypeEntity;
  ticketsources: TicketSource;
  customfields: CustomField;
  customfieldoptions: CustomFieldOption;
  helpdocssites: HelpDocsSite;
  helpdocscategories: HelpDocsCategory;
  helpdocarticles: HelpDocArticle;
  triggers: Trigger;
}

export type Kind = keyof Tables;

export const KINDS: readonly Kind[] = [
  'users', 'customers', 'contacts', 'companies', 'domains', 'inboxes', 'tickets', 'messages',
  'files', 'tags', 'ticketstatuses', 'ticketpriorities', 'tickettypes', 'ticketsources',
  'customfields', 'customfieldoptions', 'helpdocssites', 'helpdocscategories', 'helpdocarticles', 'triggers',
];

export const isKind = (s: string): s is Kind => (KINDS as readonly string[]).includes(s);

/** Fields a creator supplies; the store fills the base fields. */
export type NewEntity<K extends Kind> = Omit<Tables[K], keyof Base> & { createdAt?: string; updatedAt?: string; id?: number; state?: EntityState };

/** One email the sandbox "sent": lets tests assert a migration emailed nobody. */
export interface EmailRecord {
  at: string;
  reason: 'ticket-create' | 'reply';
  ticketId: number;
  messageId: number | null;
  to: string[];
  cc: string[];
  bcc: string[];
}

export interface ImportRecord {
  source: string;
  sourceId: number;
  ticketId: number;
  importedAt: string;
}

/** An issued-but-not-yet-used presigned POST (files/ref step 1). */
export interface PendingUpload {
  fileId: number;
  key: string;
  params: Record<string, string>;
  expiresAt: number;
  maxBytes: number;
}
