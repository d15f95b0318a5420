using System.Security.Claims;
using AuditAgent.Core.Incidents;

namespace AuditAgent.Web;

/// <summary>
/// The app roles of the console's app registration (they arrive in the token's <c>roles</c> claim) and
/// what each may do. The admin guide lists the commands that create them and assign them to groups.
/// </summary>
public static class ConsoleRoles
{
    public const string Viewer = "AuditAgent.Viewer";
    public const string Analyst = "AuditAgent.Analyst";
    public const string PrivacyOfficer = "AuditAgent.PrivacyOfficer";
    public const string Admin = "AuditAgent.Admin";

    public static readonly string[] All = [Viewer, Analyst, PrivacyOfficer, Admin];

    /// <summary>Policy names, one per kind of right.</summary>
    public static class Policies
    {
        /// <summary>Read incidents, findings and the overview (never an exposed address): every role.</summary>
        public const string View = "view";

        /// <summary>Acknowledge, assign, plan steps, resolve, reopen: Analyst and PrivacyOfficer.</summary>
        public const string Triage = "triage";

        /// <summary>False positives (with their allowlist entry) and revealing recipients: PrivacyOfficer.</summary>
        public const string Privacy = "privacy";

        /// <summary>The allowlist and the agents: Admin (and PrivacyOfficer for the allowlist).</summary>
        public const string Admin = "admin";
    }

    /// <summary>Which roles each policy admits: the role matrix of the admin guide.</summary>
    public static IReadOnlyDictionary<string, string[]> Matrix { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [Policies.View] = All,
        [Policies.Triage] = [Analyst, PrivacyOfficer],
        [Policies.Privacy] = [PrivacyOfficer],
        [Policies.Admin] = [Admin, PrivacyOfficer],
    };

    public static bool HasAny(ClaimsPrincipal user) => All.Any(user.IsInRole);

    public static bool May(ClaimsPrincipal user, string policy) => Matrix[policy].Any(user.IsInRole);

    /// <summary>The actor the timeline records: the user's UPN and their directory object id.</summary>
    public static Actor ActorOf(ClaimsPrincipal user, long? seenVersion = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        var name = user.FindFirst("preferred_username")?.Value ?? user.Identity?.Name ?? "unknown";
        var oid = user.FindFirst("oid")?.Value;
        return new Actor(oid is null ? name : $"{name} (oid {oid})", seenVersion);
    }
}
