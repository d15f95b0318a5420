using AuditAgent.Configuration;
using AuditAgent.Core.Detection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Scanning;

/// <summary>Section "Scan": which mailboxes, how far back, how many at once.</summary>
public sealed class ScanOptions
{
    public const string Section = "Scan";

    /// <summary>The first sync of a mailbox reads this many days of Sent Items.</summary>
    [Within(1, 3650)]
    public int LookbackDays { get; set; } = 30;

    /// <summary>Mailboxes scanned at once. Each has at most one request in flight (Graph allows 4).</summary>
    [Within(1, 256)]
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
    [Within(2, 1000)]
    public int VisibleExternalThreshold { get; set; } = 10;

    /// <summary>Terms per sensitive category, replacing the built-in list (src/AuditAgent/Scanning/sensitive-terms.txt is the one to copy).</summary>
    public string? SensitiveTermsFile { get; set; }

    /// <summary>Sending mailboxes whose lists are sensitive, address to category ("clinic@contoso.com": "health").</summary>
    public Dictionary<string, string> SensitiveMailboxes { get; set; } = [];

    /// <summary>Directory departments whose lists are sensitive, name to category ("Human Resources": "health").</summary>
    public Dictionary<string, string> SensitiveDepartments { get; set; } = [];

    private SensitivityRules? _sensitivity;

    /// <summary>
    /// The terms, mailboxes and departments that make a list sensitive, read once. Throws
    /// <see cref="FormatException"/> naming the key, file and line of anything it cannot use.
    /// </summary>
    public SensitivityRules LoadSensitivity()
    {
        if (_sensitivity is not null)
        {
            return _sensitivity;
        }

        string text, source;
        if (SensitiveTermsFile is { Length: > 0 } file)
        {
            var path = Path.GetFullPath(file);
            if (!File.Exists(path))
            {
                throw new FormatException($"{Section}:SensitiveTermsFile names {path}, which does not exist.");
            }

            (text, source) = (File.ReadAllText(path), $"{Section}:SensitiveTermsFile {path}");
        }
        else
        {
            using var stream = typeof(DetectionOptions).Assembly.GetManifestResourceStream("AuditAgent.Scanning.sensitive-terms.txt")!;
            using var reader = new StreamReader(stream);
            (text, source) = (reader.ReadToEnd(), "the built-in sensitive-terms.txt");
        }

        return _sensitivity = new SensitivityRules(
            SensitiveTerms.Parse(text, source),
            Categories(SensitiveMailboxes, nameof(SensitiveMailboxes)),
            Categories(SensitiveDepartments, nameof(SensitiveDepartments)));
    }

    private static Dictionary<string, SensitiveCategory> Categories(Dictionary<string, string> entries, string key)
    {
        var result = new Dictionary<string, SensitiveCategory>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, category) in entries)
        {
            result[name.Trim()] = SensitiveCategories.TryParse(category, out var c)
                ? c
                : throw new FormatException($"{Section}:{key}:{name} is '{category}', not a category; use one of {SensitiveCategories.AllKeys}.");
        }

        return result;
    }
}

/// <summary>The sensitive-list settings are read at start-up, so a bad terms file or category is refused with its line or key.</summary>
internal sealed class SensitivityValidator : IValidateOptions<DetectionOptions>
{
    public ValidateOptionsResult Validate(string? name, DetectionOptions options)
    {
        try
        {
            options.LoadSensitivity();
            return ValidateOptionsResult.Success;
        }
        catch (FormatException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}

/// <summary>Section "Cluster": how agents sharing a PostgreSQL database split each scan cycle.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How long a mailbox lease lasts unless its agent renews it (every third of this).</summary>
    [Within(3, 3600)]
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>How often an idle agent checks in and looks for a cycle it can help with.</summary>
    [Within(1, 600)]
    public int PollSeconds { get; set; } = 15;
}

[OptionsValidator]
internal sealed partial class ScanOptionsValidator : IValidateOptions<ScanOptions>;

[OptionsValidator]
internal sealed partial class DetectionOptionsValidator : IValidateOptions<DetectionOptions>;

[OptionsValidator]
internal sealed partial class ClusterOptionsValidator : IValidateOptions<ClusterOptions>;
