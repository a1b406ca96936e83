import { CachedStore } from "../../src/store/cached-store.ts";
import { MemoryStore } from "../../src/store/memory-store.ts";
import { storeContract } from "./contract.ts";

storeContract("MemoryStore", (clock) => ({ store: new MemoryStore({ clock }) }));
storeContract("CachedStore over MemoryStore", (clock) => ({
  store: new CachedStore(new MemoryStore({ clock }), { clock }),
}));
