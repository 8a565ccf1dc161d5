import type Koa from 'koa';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Services } from '../services/index.js';
import type { Access } from './route.js';

export type ApiDeps = {
  config: Config;
  log: Logger;
  services: Services;
};

export type AuthFn = (access: Access) => Koa.Middleware;
