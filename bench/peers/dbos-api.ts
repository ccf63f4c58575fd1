/**
 * The part of DBOS Transact (`@dbos-inc/dbos-sdk`, installed in bench/node_modules by `npm run bench`) the
 * benchmark uses, typed here and loaded at run time: the library's type check must not need the peer installed.
 */

/** A started workflow. */
export interface DbosHandle<R> {
  readonly workflowID: string;
  getResult(): Promise<R>;
}

/** A row of `DBOS.listWorkflows` (times in epoch milliseconds, set by the database). */
export interface DbosWorkflowStatus {
  workflowID: string;
  status: string;
  createdAt: number;
  updatedAt?: number;
}

/** The static `DBOS` facade. */
export interface DbosFacade {
  setConfig(config: {
    name: string;
    systemDatabaseUrl: string;
    systemDatabaseSchemaName?: string;
    applicationVersion?: string;
    logLevel?: string;
  }): void;
  launch(): Promise<void>;
  shutdown(options?: { workflowCompletionTimeoutMS?: number }): Promise<void>;
  registerWorkflow<Args extends unknown[], R>(
    fn: (...args: Args) => Promise<R>,
    config: { name: string },
  ): (...args: Args) => Promise<R>;
  runStep<R>(fn: () => Promise<R>, config?: { name?: string }): Promise<R>;
  startWorkflow<Args extends unknown[], R>(
    workflow: (...args: Args) => Promise<R>,
    params?: { workflowID?: string; queueName?: string },
  ): (...args: Args) => Promise<DbosHandle<R>>;
  send<T>(destinationID: string, message: T, topic?: string): Promise<void>;
  recv<T>(topic?: string, timeoutSeconds?: number): Promise<T | null>;
  listWorkflows(input: { workflowIDs?: string[]; limit?: number }): Promise<DbosWorkflowStatus[]>;
  registerQueue(name: string, options?: Record<string, unknown>): Promise<unknown>;
}

/** `DBOSClient`: enqueues workflows from a process that does not run them. */
export interface DbosClient {
  enqueue(
    options: { queueName: string; workflowName: string; appVersion?: string },
    ...args: unknown[]
  ): Promise<DbosHandle<unknown>>;
  destroy(): Promise<void>;
}

/** The module's exports the benchmark uses. */
export interface DbosModule {
  DBOS: DbosFacade;
  DBOSClient: {
    create(options: {
      systemDatabaseUrl: string;
      systemDatabaseSchemaName?: string;
      applicationName?: string;
    }): Promise<DbosClient>;
  };
}

/** The DBOS application name and version every benchmark process uses (queued work needs them to match). */
export const DBOS_APP = { name: 'duraflow-bench', version: 'bench-1' } as const;

/** Loads the peer; fails with how to install it when it is missing. */
export async function loadDbos(): Promise<DbosModule> {
  const specifier = '@dbos-inc/dbos-sdk';
  try {
    return (await import(specifier)) as DbosModule;
  } catch (error) {
    throw new Error(`DBOS Transact is not installed (run: npm --prefix bench ci): ${(error as Error).message}`);
  }
}
