using AuditAgent.Graph;

namespace AuditAgent.Hosting;

/// <summary>Section "Graph": where Graph is and how the agent signs in.</summary>
public sealed class GraphOptions
{
    public const string Section = "Graph";

    /// <summary>Global, UsGovernment, UsGovernmentDoD or China: authority, Graph URL and scope follow.</summary>
    public GraphCloud Cloud { get; set; } = GraphCloud.Global;

    /// <summary>Overrides the cloud's Graph URL (with the version segment); the simulator sets it.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>ClientSecret, ClientCertificate, ManagedIdentity or WorkloadIdentity.</summary>
    public CredentialKind Credential { get; set; } = CredentialKind.ClientSecret;

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>A file holding the client secret (a mounted secret), instead of ClientSecret.</summary>
    public string? ClientSecretFile { get; set; }

    /// <summary>A PFX (.pfx/.p12) or PEM (.pem/.crt) certificate file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key, when it is not in CertificatePath.</summary>
    public string? CertificateKeyPath { get; set; }

    public string? CertificatePassword { get; set; }

    public string? CertificatePasswordFile { get; set; }

    /// <summary>Or: the certificate's thumbprint in the My store of CertificateStoreLocation.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>CurrentUser or LocalMachine.</summary>
    public string CertificateStoreLocation { get; set; } = "CurrentUser";

    /// <summary>Send the certificate chain (subject name/issuer authentication).</summary>
    public bool SendCertificateChain { get; set; }

    /// <summary>The client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The federated token file for workload identity; AZURE_FEDERATED_TOKEN_FILE when empty.</summary>
    public string? FederatedTokenFile { get; set; }

    /// <summary>A fixed bearer token instead of a credential. For the tenant simulator only.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Messages per delta page (Prefer: odata.maxpagesize).</summary>
    public int PageSize { get; set; } = 200;

    /// <summary>Retries of the SDK's retry handler for 429/503/504 (it honours Retry-After).</summary>
    public int MaxRetries { get; set; } = 6;

    /// <summary>Back-off base in seconds when Graph sends no Retry-After.</summary>
    public int RetryDelaySeconds { get; set; } = 3;

    /// <summary>The longest a request may take, from sending it to the last byte of its answer.</summary>
    public int TimeoutSeconds { get; set; } = 100;

    /// <summary>The longest Retry-After the agent waits for; Graph asking for more fails the request (the next scan retries).</summary>
    public int MaxRetryAfterSeconds { get; set; } = 120;

    /// <summary>The most one response may hold; a larger page fails its mailbox instead of filling memory.</summary>
    public int MaxResponseMegabytes { get; set; } = 64;
}

/// <summary>Section "Scan": which mailboxes, how far back, how many at once.</summary>
public sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>The first sync of a mailbox reads this many days of Sent Items.</summary>
    public int LookbackDays { get; set; } = 30;

    /// <summary>Mailboxes scanned at once. Each has at most one request in flight (Graph allows 4).</summary>
    public int MaxParallelMailboxes { get; set; } = 16;

    /// <summary>Read the delta links of mailboxes already in sync through $batch, 20 per request.</summary>
    public bool BatchRescans { get; set; } = true;

    /// <summary>When not empty, only these mailboxes (address or user id) are scanned.</summary>
    public List<string> IncludeMailboxes { get; set; } = [];

    public List<string> ExcludeMailboxes { get; set; } = [];

    /// <summary>Domains treated as internal in addition to the tenant's verified domains.</summary>
    public List<string> InternalDomains { get; set; } = [];
}

/// <summary>Section "Detection".</summary>
public sealed class DetectionOptions
{
    public const string Section = "Detection";

    /// <summary>Distinct external addresses visible in To and Cc that make a message a finding.</summary>
    public int VisibleExternalThreshold { get; set; } = 10;
}

/// <summary>Section "Cluster": how agents sharing a PostgreSQL database split each scan cycle.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How long a mailbox lease lasts unless its agent renews it (every third of this).</summary>
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>How often an idle agent checks in and looks for a cycle it can help with.</summary>
    public int PollSeconds { get; set; } = 15;
}

/// <summary>Where findings and incidents are kept.</summary>
public enum StorageProvider
{
    /// <summary>One file beside the agent: one machine, the default.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server: production, several agents sharing the work.</summary>
    PostgreSql,
}

/// <summary>Section "Storage".</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Sqlite (default, one machine) or PostgreSql (production, several agents).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The SQLite database file, created (readable by its owner only) when missing.</summary>
    public string SqlitePath { get; set; } = "auditagent.db";

    /// <summary>For PostgreSql: an Npgsql connection string (keep the password in the environment).</summary>
    public string? ConnectionString { get; set; }

    public int CommandTimeoutSeconds { get; set; } = 30;
}
