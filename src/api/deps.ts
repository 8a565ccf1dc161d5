import type Koa from 'koa';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Store } from '../storage/mongo.js';
import type { Temporal } from '../temporal.js';
import type { Publisher } from '../services/publish.js';
import type { Control } from '../services/control.js';
import type { Role } from '../storage/types.js';

export type ApiDeps = {
  config: Config;
  log: Logger;
  store: Store;
  temporal: Temporal;
  publisher: Publisher;
  control: Control;
};

export type AuthFn = (role: Role | 'any') => Koa.Middleware;
