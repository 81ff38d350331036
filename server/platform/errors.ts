// Errors the repositories throw for the routers to map (NotFoundError -> 404, BadInputError -> 400).

export class NotFoundError extends Error {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} "${id}" not found`);
    this.name = "NotFoundError";
  }
}

/** Input the caller must fix (a bad upload, a file name with path tricks, a missing run input...). */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadInputError";
  }
}

/** The Prisma error code (P2002 unique, P2003 foreign key, P2025 missing record) of an error, if any. */
export function prismaCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
