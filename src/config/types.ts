/**
 * The configuration of one relay: the reference relay's `chatmail.ini` `[params]`
 * keys (same names, same defaults) plus chatrelay's own keys. Keys keep their ini
 * spelling so that an operator can grep the code for an option they read in the file.
 */
export type TlsMode = "self" | "acme" | "external";

export interface Config {
  /** File the config was read from, or "<embedded>". */
  source: string;

  // --- chatmail.ini [params] (docs/reference-relay.md §4) ---
  mail_domain: string;
  max_user_send_per_minute: number;
  max_user_send_burst_size: number;
  /** bytes */
  max_mailbox_size: number;
  /** bytes */
  max_message_size: number;
  /** days */
  delete_mails_after: number;
  /** days */
  delete_large_after: number;
  /** days */
  delete_inactive_users_after: number;
  username_min_length: number;
  username_max_length: number;
  password_min_length: number;
  max_load_1m: number;
  /** bytes */
  min_available_memory: number;
  /** bytes */
  min_free_disk_space: number;
  max_imap_connections: number;
  max_smtp_connections: number;
  /** "CERT_PATH KEY_PATH" or "" */
  tls_external_cert_and_key: string;
  www_folder: string;
  disable_ipv6: boolean;
  acme_email: string;
  /** undefined = not advertised; "" = advertised as NIL */
  iroh_relay: string | undefined;
  mtail_address: string;
  imap_rawlog: boolean;
  imap_compress: boolean;
  turn_socket_path: string;
  privacy_postal: string;
  privacy_mail: string;
  privacy_pdo: string;
  privacy_supervisor: string;

  // --- chatrelay's own keys ---
  /** Address every listener binds to. */
  listen_address: string;
  /** Ports; -1 ("off" in the file) disables a listener, 0 lets the system pick one. */
  smtp_port: number;
  submission_port: number;
  submissions_port: number;
  imap_port: number;
  imaps_port: number;
  https_port: number;
  http_port: number;
  /** Port of the metrics listener on mtail_address (3903 as in the reference relay). */
  metrics_port: number;
  /** Folder for the SQLite database, message files, keys and certificates. */
  data_dir: string;
  push_url: string;
  tls_mode: TlsMode;
  /** Minimum TLS version on client ports (IMAP, submission). */
  tls_min_version_client: "TLSv1.2" | "TLSv1.3";
  /** DNS servers for MX/DKIM lookups, "host" or "host:port"; empty = system resolver. */
  dns_servers: string[];
  dkim_selector: string;
  /** seconds between "* OK Still here" during IDLE */
  imap_idle_keepalive: number;
  /** TURN (calls): shared secret as in coturn's static-auth-secret; "" = not advertised */
  turn_secret: string;
  turn_host: string;
  turn_port: number;
  /** seconds a message may wait in the outbound queue before it bounces (2 days) */
  max_queue_lifetime: number;
  /** Port of a remote relay's HTTPS /mxdeliv and SMTP MX when delivering out (tests). */
  outbound_https_port: number;
  outbound_smtp_port: number;
  /** Switch file: when it exists no new accounts are created. */
  nocreate_file: string;
  log_level: "fatal" | "error" | "warn" | "info" | "debug" | "trace";

  // --- limits against hostile peers (docs/configuration.md "Limits") ---
  /** Concurrent connections per client address (IPv4, IPv6 /64) on each of IMAP, submission, HTTPS, HTTP. */
  max_connections_per_ip: number;
  /** Concurrent connections per client address on the MX port. */
  max_mx_connections_per_ip: number;
  /** seconds a TLS handshake may take (implicit TLS and after STARTTLS) */
  tls_handshake_timeout: number;
  /** seconds a connection may stay without completing a command before login */
  preauth_timeout: number;
  /** bytes of message bodies held in memory at once, over all connections */
  max_buffered_bytes: number;
  /** failed logins per client address per hour (burst; then refused until the budget refills) */
  max_login_failures_per_ip: number;
  /** failed logins per account per hour */
  max_login_failures_per_account: number;
  /** accounts created by logging in, per client address per hour */
  max_accounts_per_ip: number;
  /** deliver out to loopback, private, link-local and unspecified addresses (tests, private networks) */
  outbound_allow_private: boolean;
  /** ACME directory URL (tls_mode acme) */
  acme_directory: string;
}
