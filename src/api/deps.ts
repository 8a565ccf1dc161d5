import type Koa from 'koa';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Services } from '../services/index.js';
import type { Role } from '../services/models.js';

export type ApiDeps = {
  config: Config;
  log: Logger;
  services: Services;
};

export type AuthFn = (role: Role | 'any') => Koa.Middleware;
