using System.Globalization;

namespace AuditAgent.Core.Incidents;

/// <summary>What an apology is written from: facts of the incident and of the organisation, never a list of people.</summary>
public sealed record ApologyFacts(
    DateTimeOffset SentAt,
    int ExposedCount,
    int PersonalCount,
    bool ReExposed,
    string Signer,
    string? Organisation,
    string? Contact,
    string? Offer,
    string? BulkMailPlatform);

/// <summary>
/// The apology the plan's "apologise from higher up" step starts from, in the manager's name: what happened in
/// plain words, that it was our mistake, what changed, what we offer where private addresses were exposed, and
/// whom to contact. One message per recipient: <c>{name}</c> stands for the person it goes to. Never a list of
/// the people, never the original message.
/// </summary>
public static class ApologyDraft
{
    public const string NamePlaceholder = "{name}";

    public static (string Subject, string Body) Compose(ApologyFacts f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var others = f.ExposedCount - 1;
        var lines = new List<string>
        {
            $"Dear {NamePlaceholder},",
            "",
            string.Create(CultureInfo.InvariantCulture, $"On {f.SentAt.UtcDateTime:d MMMM yyyy} we sent you a message that showed your email address, and those of {others} other {(others == 1 ? "person" : "people")}, to everyone who received it{(f.ReExposed ? ", and a later message did the same again" : "")}. It should have been sent so that nobody could see the other recipients. That was our mistake, and I am sorry."),
            "",
            $"What we have changed: messages to many people now go only in Bcc{(f.BulkMailPlatform is { Length: > 0 } p ? $" or through {p}" : "")}, and we check every day that none goes out with the recipients visible to each other. We will not write to that list again in the same way.",
        };
        if (f.PersonalCount > 0)
        {
            lines.Add("");
            lines.Add(f.Offer is { Length: > 0 } offer
                ? $"Because some of the addresses were private ones, we would like to offer you {offer}."
                : "Because some of the addresses were private ones, we would like to offer you [WHAT WE OFFER: e.g. a year of a spam-filtering or privacy-protection service].");
        }

        lines.AddRange(
        [
            "",
            "You do not need to do anything. If you receive an unexpected message from someone who was on that list, please be careful with its links and attachments, and tell us.",
            "",
            $"If you have any question, write to {(f.Contact is { Length: > 0 } contact ? contact : "[CONTACT]")}.",
            "",
            "With my apologies,",
            f.Signer,
        ]);
        if (f.Organisation is { Length: > 0 } organisation)
        {
            lines.Add(organisation);
        }

        return ("We made a mistake with your email address", string.Join('\n', lines));
    }
}
