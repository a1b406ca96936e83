import { createCronApp } from "../../../src/adapters/vercel.ts";

/** `/api/cron/sweep`: the expiry sweep, run by Vercel Cron with the `CRON_SECRET` bearer token. */
export default createCronApp();
