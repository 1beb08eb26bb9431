/** The daemon's version, as status, the CLI, CEF lines and the OpenAPI document report it. */
export const VERSION = '0.1.0'
