using System.Text;
using System.Xml.Linq;
using AuditAgent.Protection;
using AuditAgent.Storage;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Web;

/// <summary>
/// Where the console's Data Protection keys live: in the database every instance shares (so a cookie or
/// antiforgery token made by one instance is accepted by the next), each sealed with the key ring so the
/// database alone cannot forge a session.
/// </summary>
internal static class ConsoleKeys
{
    private const string Context = "console-data-protection";

    public static IServiceCollection AddConsoleKeys(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("AuditAgent");
        services.AddOptions<KeyManagementOptions>().Configure<Database, RecipientProtector>((o, database, protector) =>
        {
            o.XmlRepository = new DatabaseRepository(database);
            o.XmlEncryptor = new RingEncryptor(protector);
        });
        return services;
    }

    /// <summary>The key ring, loaded once. Data Protection's interfaces are synchronous; this runs when keys are read or made, not per request.</summary>
    private static KeyRing Ring(RecipientProtector protector) => protector.GetAsync(CancellationToken.None).GetAwaiter().GetResult().Ring;

    private sealed class DatabaseRepository(Database database) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var c = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
            return c.Query<string>("SELECT xml FROM console_keys ORDER BY created_at, name").Select(x => XElement.Parse(x)).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var c = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
            c.Execute(
                "INSERT INTO console_keys (name, xml, created_at) VALUES (@friendlyName, @xml, @now) ON CONFLICT (name) DO NOTHING",
                new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting), now = DateTimeOffset.UtcNow });
        }
    }

    private sealed class RingEncryptor(RecipientProtector protector) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement)
        {
            ArgumentNullException.ThrowIfNull(plaintextElement);
            var sealedXml = Ring(protector).Seal(Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting)), Context);
            return new EncryptedXmlInfo(new XElement("sealedByKeyRing", sealedXml), typeof(RingDecryptor));
        }
    }

    /// <summary>Made by Data Protection from its type name, with the application's services.</summary>
    internal sealed class RingDecryptor(IServiceProvider services) : IXmlDecryptor
    {
        public XElement Decrypt(XElement encryptedElement)
        {
            ArgumentNullException.ThrowIfNull(encryptedElement);
            var ring = Ring(services.GetRequiredService<RecipientProtector>());
            return XElement.Parse(Encoding.UTF8.GetString(ring.Open(encryptedElement.Value, Context)));
        }
    }
}
