using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Tests.Support;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Tests.Graph;

/// <summary>Every Azure.Identity credential kind and every cloud, built from configuration.</summary>
public class CredentialTests
{
    private static GraphOptions Options(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection().AddAuditAgent(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<GraphOptions>>().Value;
    }

    private static Dictionary<string, string?> App(string kind) => new()
    {
        ["Graph:Credential"] = kind,
        ["Graph:TenantId"] = "11111111-1111-1111-1111-111111111111",
        ["Graph:ClientId"] = "22222222-2222-2222-2222-222222222222",
    };

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=AuditAgent test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    [Fact]
    public void ClientSecret_FromValueOrMountedFile()
    {
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "secret");
        File.WriteAllText(file, "from-file\n");

        var fromValue = CredentialFactory.Create(Options(new(App("ClientSecret")) { ["Graph:ClientSecret"] = "s3cret" }));
        var fromFile = CredentialFactory.Create(Options(new(App("ClientSecret")) { ["Graph:ClientSecretFile"] = file }));

        Assert.IsType<ClientSecretCredential>(fromValue);
        Assert.IsType<ClientSecretCredential>(fromFile);
        Assert.Equal("from-file", CredentialFactory.ReadSecret(null, file, "Graph:ClientSecretFile"));
    }

    [Fact]
    public void ClientCertificate_FromPfxPemOrStoreThumbprint()
    {
        using var folder = new TempFolder();
        using var certificate = SelfSigned();
        var pfx = Path.Combine(folder.Path, "agent.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "pfx-password"));
        var pem = Path.Combine(folder.Path, "agent.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem() + "\n" + certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        using (var store = new X509Store(StoreName.My, StoreLocation.CurrentUser))
        {
            store.Open(OpenFlags.ReadWrite);
            store.Add(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable));
        }

        try
        {
            Assert.IsType<ClientCertificateCredential>(CredentialFactory.Create(Options(new(App("ClientCertificate")) { ["Graph:CertificatePath"] = pfx, ["Graph:CertificatePassword"] = "pfx-password" })));
            Assert.IsType<ClientCertificateCredential>(CredentialFactory.Create(Options(new(App("ClientCertificate")) { ["Graph:CertificatePath"] = pem })));
            Assert.IsType<ClientCertificateCredential>(CredentialFactory.Create(Options(new(App("ClientCertificate")) { ["Graph:CertificateThumbprint"] = certificate.Thumbprint })));
            var wrongPassword = Assert.Throws<InvalidOperationException>(() =>
                CredentialFactory.Create(Options(new(App("ClientCertificate")) { ["Graph:CertificatePath"] = pfx, ["Graph:CertificatePassword"] = "nope" })));
            Assert.StartsWith("Graph:CertificatePath: cannot load", wrongPassword.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("nope", wrongPassword.Message, StringComparison.Ordinal);
        }
        finally
        {
            using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadWrite);
            foreach (var c in store.Certificates.Find(X509FindType.FindByThumbprint, certificate.Thumbprint, false))
            {
                store.Remove(c);
            }
        }
    }

    [Fact]
    public void ManagedIdentity_SystemOrUserAssigned_AndWorkloadIdentity()
    {
        using var folder = new TempFolder();
        var token = Path.Combine(folder.Path, "token");
        File.WriteAllText(token, "federated-token");

        Assert.IsType<ManagedIdentityCredential>(CredentialFactory.Create(Options(new() { ["Graph:Credential"] = "ManagedIdentity" })));
        Assert.IsType<ManagedIdentityCredential>(CredentialFactory.Create(Options(new() { ["Graph:Credential"] = "ManagedIdentity", ["Graph:ManagedIdentityClientId"] = "33333333-3333-3333-3333-333333333333" })));
        Assert.IsType<WorkloadIdentityCredential>(CredentialFactory.Create(Options(new(App("WorkloadIdentity")) { ["Graph:FederatedTokenFile"] = token })));
    }

    [Theory]
    [InlineData("ClientSecret", "", "Graph:ClientSecret is required")]
    [InlineData("ClientSecret", "ClientSecretFile=/nonexistent/secret", "Graph:ClientSecretFile: /nonexistent/secret does not exist")]
    [InlineData("ClientCertificate", "", "Graph:CertificatePath or Graph:CertificateThumbprint is required")]
    [InlineData("ClientCertificate", "CertificatePath=/nonexistent/agent.pfx", "Graph:CertificatePath: /nonexistent/agent.pfx does not exist")]
    [InlineData("ClientCertificate", "CertificateThumbprint=AB;CertificateStoreLocation=Desk", "Graph:CertificateStoreLocation must be CurrentUser or LocalMachine")]
    [InlineData("WorkloadIdentity", "", "Graph:FederatedTokenFile is required")]
    [InlineData("Kerberos", "", "Failed to convert configuration value")]
    public void BadConfiguration_NamesTheKey(string kind, string extra, string message)
    {
        var settings = App(kind);
        foreach (var pair in extra.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            settings["Graph:" + pair.Split('=')[0]] = pair.Split('=')[1];
        }

        var ex = Assert.ThrowsAny<Exception>(() => Options(settings));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GraphCloud.Global, "https://login.microsoftonline.com/", "https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/.default")]
    [InlineData(GraphCloud.UsGovernment, "https://login.microsoftonline.us/", "https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default")]
    [InlineData(GraphCloud.UsGovernmentDoD, "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/.default")]
    [InlineData(GraphCloud.China, "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn/.default")]
    public void Cloud_SetsAuthorityGraphUrlAndScopeTogether(GraphCloud cloud, string authority, string graph, string scope)
    {
        var endpoints = CloudEndpoints.For(cloud);
        var client = GraphClientFactory.Create(new GraphOptions { Cloud = cloud, TenantId = "t", ClientId = "c", ClientSecret = "s" });

        Assert.Equal((new Uri(authority), graph, scope), (endpoints.AuthorityHost, endpoints.GraphBaseUrl, endpoints.Scope));
        Assert.Equal(graph, client.RequestAdapter.BaseUrl);
    }

    [Fact]
    public void ConsentUrl_IsExact()
    {
        Assert.Equal(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=22222222-2222-2222-2222-222222222222&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&redirect_uri=https%3A%2F%2Flocalhost&state=auditagent-consent",
            Permissions.AdminConsentUrl(GraphCloud.Global, "contoso.onmicrosoft.com", "22222222-2222-2222-2222-222222222222", "https://localhost"));
        Assert.Equal(
            "https://login.microsoftonline.us/t/v2.0/adminconsent?client_id=c&scope=https%3A%2F%2Fgraph.microsoft.us%2F.default&redirect_uri=https%3A%2F%2Fexample.org%2Fdone&state=x",
            Permissions.AdminConsentUrl(GraphCloud.UsGovernment, "t", "c", "https://example.org/done", "x"));
    }

    [Fact]
    public void Permissions_AreExactlyTheLeastPrivilegedOnes()
    {
        Assert.Equal(["Mail.ReadBasic.All", "User.Read.All", "Domain.Read.All", "Mail.Send"], Permissions.Required(sendsThroughGraph: true).Select(p => p.Name));
        Assert.Equal(["Mail.ReadBasic.All", "User.Read.All", "Domain.Read.All"], Permissions.Required(sendsThroughGraph: false).Select(p => p.Name));
        Assert.DoesNotContain(Permissions.Required(true), p => p.Name == "Mail.Read");
        Assert.True(Permissions.Broader.ContainsKey("Mail.Read"));
    }
}
