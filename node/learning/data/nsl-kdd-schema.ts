/**
 * The NSL-KDD connection-record feature vector, `nsl-kdd/1` (Tavallaee et al. 2009). 41 fields per record: 38
 * numeric ones kept in file order, heavy-tailed counts and byte totals through log1p, and the three symbolic ones
 * (protocol_type, service, flag) one-hot over the full vocabulary of the data set, so every split of it gets the
 * same 122 inputs. This is a benchmark schema, unrelated to the live per-address window schema (`window/1`).
 */
import type { FeatureSchemaRef } from '../model/feature-schema-ref.ts'

export const NSL_KDD_SCHEMA: FeatureSchemaRef = { name: 'nsl-kdd', version: 1 }

/** the 41 fields of a record, in file order; then come the attack label and a difficulty level */
export const NSL_KDD_FIELDS = [
  'duration',
  'protocol_type',
  'service',
  'flag',
  'src_bytes',
  'dst_bytes',
  'land',
  'wrong_fragment',
  'urgent',
  'hot',
  'num_failed_logins',
  'logged_in',
  'num_compromised',
  'root_shell',
  'su_attempted',
  'num_root',
  'num_file_creations',
  'num_shells',
  'num_access_files',
  'num_outbound_cmds',
  'is_host_login',
  'is_guest_login',
  'count',
  'srv_count',
  'serror_rate',
  'srv_serror_rate',
  'rerror_rate',
  'srv_rerror_rate',
  'same_srv_rate',
  'diff_srv_rate',
  'srv_diff_host_rate',
  'dst_host_count',
  'dst_host_srv_count',
  'dst_host_same_srv_rate',
  'dst_host_diff_srv_rate',
  'dst_host_same_src_port_rate',
  'dst_host_srv_diff_host_rate',
  'dst_host_serror_rate',
  'dst_host_srv_serror_rate',
  'dst_host_rerror_rate',
  'dst_host_srv_rerror_rate',
] as const

export const NSL_KDD_SYMBOLIC_FIELDS = ['protocol_type', 'service', 'flag'] as const

/** counts, byte totals and durations spanning orders of magnitude (src_bytes reaches 1e9); rates stay 0..1 */
export const NSL_KDD_LOG1P_FIELDS: ReadonlySet<string> = new Set([
  'duration',
  'src_bytes',
  'dst_bytes',
  'wrong_fragment',
  'urgent',
  'hot',
  'num_failed_logins',
  'num_compromised',
  'su_attempted',
  'num_root',
  'num_file_creations',
  'num_shells',
  'num_access_files',
  'num_outbound_cmds',
  'count',
  'srv_count',
  'dst_host_count',
  'dst_host_srv_count',
])

export const NSL_KDD_PROTOCOLS = ['icmp', 'tcp', 'udp'] as const

/** the 70 services of KDDTrain+ (a superset of those in the test files) */
export const NSL_KDD_SERVICES = [
  'IRC',
  'X11',
  'Z39_50',
  'aol',
  'auth',
  'bgp',
  'courier',
  'csnet_ns',
  'ctf',
  'daytime',
  'discard',
  'domain',
  'domain_u',
  'echo',
  'eco_i',
  'ecr_i',
  'efs',
  'exec',
  'finger',
  'ftp',
  'ftp_data',
  'gopher',
  'harvest',
  'hostnames',
  'http',
  'http_2784',
  'http_443',
  'http_8001',
  'imap4',
  'iso_tsap',
  'klogin',
  'kshell',
  'ldap',
  'link',
  'login',
  'mtp',
  'name',
  'netbios_dgm',
  'netbios_ns',
  'netbios_ssn',
  'netstat',
  'nnsp',
  'nntp',
  'ntp_u',
  'other',
  'pm_dump',
  'pop_2',
  'pop_3',
  'printer',
  'private',
  'red_i',
  'remote_job',
  'rje',
  'shell',
  'smtp',
  'sql_net',
  'ssh',
  'sunrpc',
  'supdup',
  'systat',
  'telnet',
  'tftp_u',
  'tim_i',
  'time',
  'urh_i',
  'urp_i',
  'uucp',
  'uucp_path',
  'vmnet',
  'whois',
] as const

export const NSL_KDD_FLAGS = [
  'OTH',
  'REJ',
  'RSTO',
  'RSTOS0',
  'RSTR',
  'S0',
  'S1',
  'S2',
  'S3',
  'SF',
  'SH',
] as const

export type AttackFamily = 'normal' | 'dos' | 'probe' | 'r2l' | 'u2r' | 'unknown'

/**
 * Attack name -> family, the standard mapping of the KDD'99 / NSL-KDD literature, including the attacks that
 * appear only in KDDTest+ (apache2, mscan, snmpguess, ...). Names not listed are attacks of family 'unknown'.
 */
export const NSL_KDD_ATTACK_FAMILIES: Readonly<Record<string, AttackFamily>> = {
  normal: 'normal',
  back: 'dos',
  land: 'dos',
  neptune: 'dos',
  pod: 'dos',
  smurf: 'dos',
  teardrop: 'dos',
  apache2: 'dos',
  mailbomb: 'dos',
  processtable: 'dos',
  udpstorm: 'dos',
  ipsweep: 'probe',
  nmap: 'probe',
  portsweep: 'probe',
  satan: 'probe',
  mscan: 'probe',
  saint: 'probe',
  ftp_write: 'r2l',
  guess_passwd: 'r2l',
  imap: 'r2l',
  multihop: 'r2l',
  phf: 'r2l',
  spy: 'r2l',
  warezclient: 'r2l',
  warezmaster: 'r2l',
  httptunnel: 'r2l',
  named: 'r2l',
  sendmail: 'r2l',
  snmpgetattack: 'r2l',
  snmpguess: 'r2l',
  worm: 'r2l',
  xlock: 'r2l',
  xsnoop: 'r2l',
  buffer_overflow: 'u2r',
  loadmodule: 'u2r',
  perl: 'u2r',
  rootkit: 'u2r',
  ps: 'u2r',
  sqlattack: 'u2r',
  xterm: 'u2r',
}

export const NSL_KDD_NUMERIC_FIELDS: readonly string[] = NSL_KDD_FIELDS.filter(
  (f) => !(NSL_KDD_SYMBOLIC_FIELDS as readonly string[]).includes(f),
)

/** input names in vector order: the 38 numeric fields, then `protocol_type=tcp`, `service=http`, `flag=SF`, ... */
export const NSL_KDD_FEATURE_NAMES: readonly string[] = [
  ...NSL_KDD_NUMERIC_FIELDS.map((f) => (NSL_KDD_LOG1P_FIELDS.has(f) ? `log1p(${f})` : f)),
  ...NSL_KDD_PROTOCOLS.map((v) => `protocol_type=${v}`),
  ...NSL_KDD_SERVICES.map((v) => `service=${v}`),
  ...NSL_KDD_FLAGS.map((v) => `flag=${v}`),
]

export const NSL_KDD_DIMS = NSL_KDD_FEATURE_NAMES.length
