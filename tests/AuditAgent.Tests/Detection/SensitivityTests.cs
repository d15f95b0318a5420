using AuditAgent.Core.Detection;
using AuditAgent.Scanning;
using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Detection;

/// <summary>Who is on a list: the built-in terms in five languages, matched on whole words without regard to case or accents.</summary>
public class SensitivityTests
{
    private static readonly SensitivityRules BuiltIn = new DetectionOptions().LoadSensitivity();

    [Theory]
    [InlineData("Invitation: HIV peer support group, 14 March", "health", "HIV")]
    [InlineData("Einladung: Selbsthilfegruppe Diabetes", "health", "Selbsthilfegruppe")]
    [InlineData("Réunion d'information des patients", "health", "patients")]
    [InlineData("Grupo de apoyo: nuevas fechas", "health", "Grupo de apoyo")]
    [InlineData("Uitnodiging lotgenotencontact", "health", "lotgenotencontact")]
    [InlineData("LGBTQ+ network drinks", "sex-life", "LGBTQ")]
    [InlineData("Regenbogenfamilien Treffen", "sex-life", "Regenbogenfamilien")]
    [InlineData("Taufe am Sonntag", "religion", "Taufe")]
    [InlineData("Horaires de la mosquée", "religion", "mosquée")]
    [InlineData("Clase de RELIGIÓN", "religion", "RELIGIÓN")]
    [InlineData("Parteitag 2027: Anmeldung", "political", "Parteitag")]
    [InlineData("Reunión del sindicato", "trade-union", "sindicato")]
    [InlineData("Vakbondsvergadering dinsdag", "trade-union", "Vakbondsvergadering")]
    [InlineData("Elternabend Klasse 4b", "children", "Klasse 4b")]
    [InlineData("Sortie scolaire du jeudi", "children", "Sortie scolaire")]
    [InlineData("SORTIE SCOLAIRE DU JEUDI", "children", "SORTIE SCOLAIRE")]
    [InlineData("Probation service update", "criminal", "Probation")]
    [InlineData("Schuldnerberatung: neue Termine", "financial", "Schuldnerberatung")]
    [InlineData("Voedselbank Utrecht", "financial", "Voedselbank")]
    public void Subject_InEachLanguage_MatchesItsCategory_QuotingTheWordsAsWritten(string subject, string category, string found)
    {
        var match = BuiltIn.Terms.FirstMatch(subject);

        Assert.NotNull(match);
        Assert.Equal(category, match.Value.Category.Key());
        Assert.Equal(found, match.Value.Found);
    }

    [Theory]
    [InlineData("Archive of the HIVE project")] // hiv inside other words
    [InlineData("Our clinical trials newsletter")] // clinic is not clinical
    [InlineData("Patio furniture sale")] // patient* is not pati*
    [InlineData("Debtors ledger closes Friday")] // debt is not debtors
    [InlineData("Churchill quotes for the team")] // church inside a name
    [InlineData("Unionised freight rates")] // union only in "union members" / "union meeting"
    [InlineData("Pride of the fleet: new ships")] // pride only in "pride network"
    [InlineData("Transgenic crops webinar")]
    [InlineData("Class action update")]
    [InlineData("")]
    public void NearMisses_DoNotMatch(string subject)
    {
        Assert.Null(BuiltIn.Terms.FirstMatch(subject));
    }

    [Fact]
    public void BuiltInFile_HasTermsForEveryCategory()
    {
        Assert.True(BuiltIn.Terms.Count > 300, $"{BuiltIn.Terms.Count} terms");
        var text = File.ReadAllText(RepoFiles.Path("src/AuditAgent/Scanning/sensitive-terms.txt"));
        Assert.All(Enum.GetValues<SensitiveCategory>(), c => Assert.Contains($"[{c.Key()}]", text, StringComparison.Ordinal));
    }

    [Fact]
    public void Assess_LooksAtSubjectSenderDepartmentAndRecipientNames_OneReasonPerCategory()
    {
        var rules = BuiltIn with
        {
            Mailboxes = new Dictionary<string, SensitiveCategory>(StringComparer.OrdinalIgnoreCase) { ["office@school.example"] = SensitiveCategory.Children },
            Departments = new Dictionary<string, SensitiveCategory>(StringComparer.OrdinalIgnoreCase) { ["Human Resources"] = SensitiveCategory.Health },
        };
        var message = new SentMessage("mbx", "office@school.example", "m1", null, null, "Friday update", null, null, null,
            [new Recipient("a@example.org", "Trade union members (Anna)"), new Recipient("b@example.org", "Bob")], [], []);

        var matches = rules.Assess(message, "School office", "Human Resources");

        Assert.Equal(
            [
                (SensitiveCategory.Health, "the sending mailbox belongs to the department 'Human Resources', listed as sensitive for health data (GDPR Art. 9)"),
                (SensitiveCategory.TradeUnion, "a recipient's display name suggests trade union membership (GDPR Art. 9): 'Trade union'"),
                (SensitiveCategory.Children, "the list was sent from office@school.example, a mailbox listed as sensitive for children's data (GDPR Art. 8, Recital 38)"),
            ],
            matches.Select(m => (m.Category, m.Reason)));
        Assert.Empty(BuiltIn.Assess(message with { To = [new Recipient("b@example.org", "Bob")] }, "Sales", "Sales"));
    }

    [Fact]
    public void Assess_SendingMailboxName_Matches()
    {
        var message = new SentMessage("mbx", "hiv-clinic@contoso.com", "m1", null, null, "Newsletter", null, null, null, [], [], []);

        var match = Assert.Single(BuiltIn.Assess(message, null, null));

        Assert.Equal("the sending mailbox's name suggests health data (GDPR Art. 9): 'hiv'", match.Reason);
    }

    [Theory]
    [InlineData("hiv\n", "line 1: the term 'hiv' comes before any [category] line")]
    [InlineData("[health]\n[gossip]\n", "line 2: '[gossip]' is not a category; use one of health, sex-life, religion, political, trade-union, children, criminal, financial")]
    [InlineData("[health]\nhi*\n", "line 2: 'hi*' has no word to match (a one-word prefix needs at least three letters)")]
    public void TermsFile_Mistakes_AreRefusedWithTheirLine(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => SensitiveTerms.Parse(text, "terms.txt"));

        Assert.Equal($"terms.txt {message}.", error.Message);
    }

    [Fact]
    public void Settings_UnknownCategory_NamesTheKey()
    {
        var options = new DetectionOptions { SensitiveDepartments = new() { ["HR"] = "gossip" } };

        var error = Assert.Throws<FormatException>(options.LoadSensitivity);

        Assert.StartsWith("Detection:SensitiveDepartments:HR is 'gossip', not a category", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StoredMatches_RoundTrip()
    {
        var matches = new[] { new SensitiveMatch(SensitiveCategory.Health, "the subject suggests health data (GDPR Art. 9): 'HIV'"), new SensitiveMatch(SensitiveCategory.Children, "x") };

        Assert.Equal(matches, SensitiveMatch.ParseStored(string.Join('\n', matches.Select(m => m.Stored))));
    }
}
