// Error shape of the Desk v2 API as modelled by the sandbox:
// {"errors":[{"detail": "...", "source": "<field path>", "code": "..."}]}.
// The docs only confirm a "Validator" object with detail/source (see README assumptions).

export interface ErrorItem {
  detail: string;
  source: string;
  code: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly errors: ErrorItem[];
  readonly headers: Record<string, string>;

  constructor(status: number, errors: ErrorItem[], headers: Record<string, string> = {}) {
    super(errors.map((e) => `${e.source}: ${e.detail}`).join('; ') || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }

  toBody(): { errors: ErrorItem[] } {
    return { errors: this.errors };
  }
}

export const notFound = (source: string, detail = 'not found'): ApiError =>
  new ApiError(404, [{ detail, source, code: 'not_found' }]);

export const badRequest = (source: string, detail: string, code = 'invalid'): ApiError =>
  new ApiError(400, [{ detail, source, code }]);

export const forbidden = (source: string, detail: string): ApiError =>
  new ApiError(403, [{ detail, source, code: 'forbidden' }]);

export const tooLarge = (source: string, detail: string): ApiError =>
  new ApiError(413, [{ detail, source, code: 'too_large' }]);

/** Collects every validation problem of one request so the client sees them all at once. */
export class Errors {
  readonly items: ErrorItem[] = [];

  add(source: string, detail: string, code = 'invalid'): void {
    this.items.push({ source, detail, code });
  }

  required(source: string): void {
    this.add(source, 'must be set', 'required');
  }

  unknownId(source: string, id: unknown): void {
    this.add(source, `no record with id ${JSON.stringify(id)}`, 'not_found');
  }

  get any(): boolean {
    return this.items.length > 0;
  }

  throwIfAny(status = 400): void {
    if (this.any) throw new ApiError(status, this.items);
  }
}
