import { CachedStore } from "../../src/commands/cached-store.ts";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { storeContract } from "./contract.ts";

storeContract("MemoryStore", (clock) => ({ store: new MemoryStore({ clock }) }));
storeContract("CachedStore over MemoryStore", (clock) => ({
  store: new CachedStore(new MemoryStore({ clock }), { clock }),
}));
