using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuditAgent.Simulator;

/// <summary>
/// Loads a tenant from one JSON object with Graph's own property names:
/// <c>{"domains": [domain...], "users": [user + "manager": {"id"} + "sentItems": [message...] + "inboxItems": [message...]]}</c>;
/// a user may also carry <c>"accountEnabled": false</c>, <c>"department"</c>, <c>"mailboxSettings": {"userPurpose", "timeZone"}</c>
/// and <c>"hasMailbox": false</c> (no Exchange Online mailbox: mail requests get 404 MailboxNotEnabledForRESTAPI).
/// Messages are kept as the JSON they are, so odd or malformed data reaches the agent unchanged.
/// </summary>
public static class TenantFile
{
    public static SimTenant Load(string path)
    {
        JsonNode? root;
        try
        {
            using var stream = File.OpenRead(path);
            root = JsonNode.Parse(stream);
        }
        catch (FileNotFoundException)
        {
            throw new InvalidDataException($"Tenant file '{path}' does not exist.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Tenant file '{path}' is not valid JSON: {ex.Message}");
        }

        return Parse(root as JsonObject ?? throw new InvalidDataException($"Tenant file '{path}' must hold one JSON object."));
    }

    public static SimTenant Parse(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var domains = (root["domains"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(d => new SimDomain(
                Str(d, "id") ?? throw new InvalidDataException("Every domain in the tenant file needs an \"id\"."),
                Bool(d, "isVerified") ?? true,
                Bool(d, "isDefault") ?? false,
                Bool(d, "isInitial") ?? false)
            {
                SupportedServices = (d["supportedServices"] as JsonArray)?.Select(s => s?.GetValue<string>() ?? "").ToList() ?? ["Email"],
            })
            .ToList();

        var tenant = new SimTenant(Str(root, "tenantId") ?? "00000000-0000-0000-0000-000000000001", domains);
        var index = 0;
        foreach (var user in (root["users"] as JsonArray ?? []).OfType<JsonObject>())
        {
            index++;
            var id = Str(user, "id") ?? throw new InvalidDataException($"User #{index} in the tenant file has no \"id\".");
            var messages = (user["sentItems"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .Select(m => SimMessage.FromJson((JsonObject)m.DeepClone()))
                .ToList();
            var simUser = new SimUser(id, messages)
            {
                DisplayName = Str(user, "displayName"),
                Mail = Str(user, "mail"),
                UserPrincipalName = Str(user, "userPrincipalName"),
                AccountEnabled = Bool(user, "accountEnabled") ?? true,
                JobTitle = Str(user, "jobTitle"),
                PreferredLanguage = Str(user, "preferredLanguage"),
                TimeZone = user["mailboxSettings"] is JsonObject zoneSettings ? Str(zoneSettings, "timeZone") : null,
                UserPurpose = (user["mailboxSettings"] is JsonObject purposeSettings ? Str(purposeSettings, "userPurpose") : null) ?? "user",
                ManagerId = user["manager"] is JsonObject manager ? Str(manager, "id") : null,
                OutsideAppScope = Bool(user, "outsideAppScope") ?? false,
                Department = Str(user, "department"),
                HasMailbox = Bool(user, "hasMailbox") ?? true,
            };
            foreach (var received in (user["inboxItems"] as JsonArray ?? []).OfType<JsonObject>())
            {
                simUser.AddInboxItem(SimMessage.FromJson((JsonObject)received.DeepClone()));
            }

            tenant.AddUser(simUser);
        }

        return tenant;
    }

    private static string? Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool? Bool(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
}
