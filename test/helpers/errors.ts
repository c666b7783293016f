import { DomainError, type ErrorKind } from '../../src/domain/errors.js';

/** The kind of DomainError a call fails with, or 'none'; any other error is rethrown. */
export async function kindOf(promise: Promise<unknown>): Promise<ErrorKind | 'none'> {
  try {
    await promise;
    return 'none';
  } catch (error) {
    if (error instanceof DomainError) return error.kind;
    throw error;
  }
}
