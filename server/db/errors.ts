// Errors the repositories throw for the routers to map (NotFoundError -> 404).

export class NotFoundError extends Error {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} "${id}" not found`);
    this.name = "NotFoundError";
  }
}

/** The Prisma error code (P2002 unique, P2003 foreign key, P2025 missing record) of an error, if any. */
export function prismaCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
