/** A refused console operation: the HTTP status and code it maps to, and a message for staff. */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

export const badArgument = (message: string) => new ConsoleError(400, 'BadArgument', message);
export const notFound = (message: string) => new ConsoleError(404, 'NotFound', message);
export const conflict = (message: string) => new ConsoleError(409, 'Conflict', message);
