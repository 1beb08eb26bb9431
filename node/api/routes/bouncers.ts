import { Hono } from 'hono'
import { z } from 'zod'
import { BOUNCER_NAME, type BouncerInfo } from '../../bouncer/bouncer-keys.ts'
import type { BouncerService } from '../../bouncer/bouncer-service.ts'
import { apiError } from '../errors.ts'
import { jsonBody } from '../validate.ts'

const AddBouncerBody = z
  .object({ name: z.string().regex(BOUNCER_NAME, '1 to 64 letters, digits, ".", "_" or "-"') })
  .strict()

function view(b: BouncerInfo) {
  return {
    name: b.name,
    createdAt: new Date(b.createdAt).toISOString(),
    lastPull: b.lastPull !== undefined ? new Date(b.lastPull).toISOString() : null,
  }
}

/** Admin management of the bouncers allowed on `/v1` (behind the bearer token, like all of `/api`). */
export function bouncerRoutes(bouncers: BouncerService): Hono {
  const { keys, feed } = bouncers
  return new Hono()
    .get('/', (c) => c.json({ items: keys.list().map(view) }))
    .post('/', jsonBody(AddBouncerBody), async (c) => {
      const { name } = c.req.valid('json')
      try {
        const { bouncer, key } = await keys.add(name)
        // The one response that carries the key: it is not stored and cannot be shown again.
        return c.json({ ...view(bouncer), key }, 201)
      } catch (err) {
        if ((err as Error).name === 'DuplicateBouncerError')
          throw apiError(409, (err as Error).message, 'name')
        throw err
      }
    })
    .delete('/:name', async (c) => {
      const name = c.req.param('name')
      if (keys.get(name) === undefined) throw apiError(404, `no bouncer named "${name}"`)
      await keys.delete(name)
      feed.forget(name)
      return c.body(null, 204)
    })
}
