import type { OpenApiDocument } from './openapi-document.ts'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * `/docs`: the OpenAPI document rendered server-side as one plain page (no CDN, no script), so it works on an
 * offline host and under the dashboard's strict content-security policy.
 */
export function docsPage(document: OpenApiDocument): string {
  const sections: string[] = []
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const params = (op.parameters ?? [])
        .map((p) => {
          const schema = JSON.stringify(p.schema ?? {})
          return `<li><code>${escapeHtml(String(p.name))}</code> (${escapeHtml(String(p.in))}${p.required ? ', required' : ''}): <code>${escapeHtml(schema)}</code></li>`
        })
        .join('')
      const body = op.requestBody
        ? `<details><summary>request body</summary><pre>${escapeHtml(JSON.stringify((op.requestBody as { content: Record<string, { schema: unknown }> }).content['application/json'].schema, null, 2))}</pre></details>`
        : ''
      const responses = Object.entries(op.responses)
        .map(([status, r]) => `<li><code>${status}</code> ${escapeHtml(String(r.description))}</li>`)
        .join('')
      sections.push(`<section id="${escapeHtml(op.operationId)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code> <small>scope: ${escapeHtml(op['x-scope'] ?? '')}</small></h3>
${op.summary ? `<p>${escapeHtml(op.summary)}</p>` : ''}
${params ? `<ul>${params}</ul>` : ''}${body}
<ul class="r">${responses}</ul></section>`)
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1d2430}
section{border-top:1px solid #e5e7eb;padding:.4rem 0}h3{font-size:1rem}small{color:#6b7280;font-weight:400}
.m{display:inline-block;min-width:4rem;font-size:.8rem;padding:.1rem .4rem;border-radius:4px;background:#e5e7eb}
.get{background:#dbeafe}.post{background:#dcfce7}.put{background:#fef3c7}.delete{background:#fee2e2}
pre{background:#f5f6f8;padding:.5rem;overflow:auto}</style></head><body>
<h1>${escapeHtml(document.info.title)} <small>${escapeHtml(document.info.version)}</small></h1>
<p>${escapeHtml(document.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
${sections.join('\n')}</body></html>`
}
