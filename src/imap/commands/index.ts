/** Every command by name, with the states it is valid in (RFC 3501 §6). */
import { append } from "./append.ts";
import { authenticate, capability, login, logout, noop, starttls } from "./auth.ts";
import { compress } from "./compress.ts";
import { copy } from "./copy-move.ts";
import { enable, id, namespace } from "./enable-id-namespace.ts";
import { close, expunge, uidExpunge } from "./expunge.ts";
import { fetch } from "./fetch.ts";
import { idle } from "./idle.ts";
import { list, lsub } from "./list.ts";
import { create, del, rename, subscribe } from "./mailboxes.ts";
import { getmetadata, setmetadata } from "./metadata.ts";
import { getquota, getquotaroot, setquota } from "./quota.ts";
import { search } from "./search.ts";
import { check, select, unselect } from "./select.ts";
import { status } from "./status.ts";
import { store } from "./store.ts";
import type { CommandTable } from "./types.ts";

export const COMMANDS: CommandTable = {
  CAPABILITY: capability,
  NOOP: noop,
  LOGOUT: logout,
  STARTTLS: starttls,
  AUTHENTICATE: authenticate,
  LOGIN: login,
  SELECT: select,
  EXAMINE: select,
  CREATE: create,
  DELETE: del,
  RENAME: rename,
  SUBSCRIBE: subscribe,
  UNSUBSCRIBE: subscribe,
  LIST: list,
  LSUB: lsub,
  STATUS: status,
  APPEND: append,
  CHECK: check,
  CLOSE: close,
  UNSELECT: unselect,
  EXPUNGE: expunge,
  "UID EXPUNGE": uidExpunge,
  SEARCH: search,
  FETCH: fetch,
  STORE: store,
  COPY: copy,
  MOVE: copy,
  IDLE: idle,
  NAMESPACE: namespace,
  ID: id,
  ENABLE: enable,
  GETQUOTAROOT: getquotaroot,
  GETQUOTA: getquota,
  SETQUOTA: setquota,
  GETMETADATA: getmetadata,
  SETMETADATA: setmetadata,
  COMPRESS: compress,
};
