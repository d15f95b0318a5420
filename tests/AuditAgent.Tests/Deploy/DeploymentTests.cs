using System.Diagnostics;
using System.Text.RegularExpressions;
using AuditAgent.Hosting;
using AuditAgent.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace AuditAgent.Tests.Deploy;

/// <summary>The deployment files, checked by what can run here: publish, parse, settings that exist, shellcheck.</summary>
public partial class DeploymentTests
{
    private static IReadOnlyDictionary<string, Type> Sections => OptionSections.All;

    /// <summary>AUDITAGENT__NOTIFICATIONS__SMTP__HOST must name a real setting, or the deployment silently ignores it.</summary>
    private static void AssertIsASetting(string variable)
    {
        var parts = variable["AUDITAGENT__".Length..].Split("__");
        Assert.True(Sections.TryGetValue(parts[0], out var type), $"{variable}: no section {parts[0]}");
        foreach (var part in parts[1..].Where(p => !p.All(char.IsDigit)))
        {
            var property = type!.GetProperties().FirstOrDefault(p => p.Name.Equals(part, StringComparison.OrdinalIgnoreCase) && p.CanWrite);
            Assert.True(property is not null, $"{variable}: {type.Name} has no setting {part}");
            type = property!.PropertyType.IsGenericType ? property.PropertyType.GetGenericArguments()[0] : property.PropertyType;
        }
    }

    private static List<YamlMappingNode> Yaml(string relative)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepoFiles.Path(relative))));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params string[] path) =>
        path.Aggregate(node, (n, key) => int.TryParse(key, out var i) ? ((YamlSequenceNode)n).Children[i] : ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    [Fact]
    public async Task Dockerfile_PublishStep_Runs()
    {
        var dockerfile = await File.ReadAllTextAsync(RepoFiles.Path("deploy/Dockerfile"));
        var publish = PublishLine().Match(dockerfile);
        Assert.True(publish.Success, "the Dockerfile has no `RUN dotnet publish ... -o /app` step");
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"auditagent.dll\"]", dockerfile, StringComparison.Ordinal);
        using var output = new TempFolder();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepoFiles.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in publish.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add("-o");
        start.ArgumentList.Add(output.Path);
        using var process = Process.Start(start)!;
        var log = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, await log + await errors);
        Assert.True(File.Exists(Path.Combine(output.Path, "auditagent.dll")));
        Assert.True(File.Exists(Path.Combine(output.Path, "consumer-domains.txt")));
    }

    [Fact]
    public void Compose_HasTheAgentAndPostgres_WithSettingsThatExist()
    {
        var compose = Yaml("deploy/compose.yaml").Single();
        var agent = (YamlMappingNode)At(compose, "services", "agent");
        Assert.Equal("deploy/Dockerfile", ((YamlScalarNode)At(agent, "build", "dockerfile")).Value);
        Assert.Equal("PostgreSql", ((YamlScalarNode)At(agent, "environment", "AUDITAGENT__STORAGE__PROVIDER")).Value);
        Assert.Equal("postgres", ((YamlMappingNode)At(agent, "depends_on")).Children.Keys.OfType<YamlScalarNode>().Single().Value);
        Assert.Equal("postgres:16", ((YamlScalarNode)At(compose, "services", "postgres", "image")).Value);
        foreach (var (name, _) in (YamlMappingNode)At(agent, "environment"))
        {
            AssertIsASetting(((YamlScalarNode)name).Value!);
        }
    }

    [Fact]
    public void KubernetesCluster_RunsReplicasOnPostgreSqlWithTheKeyRingFromASecret_WithSettingsThatExist()
    {
        var documents = Yaml("deploy/kubernetes/auditagent-cluster.yaml");
        Assert.Equal(["Namespace", "ServiceAccount", "ConfigMap", "Deployment"], documents.Select(d => ((YamlScalarNode)At(d, "kind")).Value));
        var deployment = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "Deployment");
        Assert.True(int.Parse(((YamlScalarNode)At(deployment, "spec", "replicas")).Value!, System.Globalization.CultureInfo.InvariantCulture) > 1);
        var container = At(deployment, "spec", "template", "spec", "containers", "0");
        var config = (YamlMappingNode)At(documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "ConfigMap"), "data");
        var settings = config.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value);
        Assert.Equal("PostgreSql", settings["AUDITAGENT__STORAGE__PROVIDER"]);
        var keyMount = ((YamlSequenceNode)At(container, "volumeMounts")).Children.Single(m => ((YamlScalarNode)At(m, "name")).Value == "keys");
        Assert.StartsWith(((YamlScalarNode)At(keyMount, "mountPath")).Value!, settings["AUDITAGENT__PROTECTION__KEYFILE"], StringComparison.Ordinal);
        var env = ((YamlSequenceNode)At(container, "env")).Children.Select(e => ((YamlScalarNode)At(e, "name")).Value!).ToList();
        Assert.Contains("AUDITAGENT__STORAGE__CONNECTIONSTRING", env);
        foreach (var name in settings.Keys.Concat(env))
        {
            AssertIsASetting(name);
        }
    }

    [Fact]
    public void Kubernetes_UsesWorkloadIdentityAndTheAgentsOwnHealth_WithSettingsThatExist()
    {
        var documents = Yaml("deploy/kubernetes/auditagent.yaml");
        var kinds = documents.Select(d => ((YamlScalarNode)At(d, "kind")).Value).ToList();
        Assert.Equal(["Namespace", "ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Deployment"], kinds);
        var deployment = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "Deployment");
        var pod = At(deployment, "spec", "template", "spec");
        var container = At(pod, "containers", "0");
        Assert.Equal("true", ((YamlScalarNode)At(deployment, "spec", "template", "metadata", "labels", "azure.workload.identity/use")).Value);
        Assert.Equal(
            ["dotnet", "auditagent.dll", "status", "--check", "--max-age", "45"],
            ((YamlSequenceNode)At(container, "livenessProbe", "exec", "command")).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal("true", ((YamlScalarNode)At(pod, "securityContext", "runAsNonRoot")).Value);
        Assert.NotNull(At(container, "resources", "requests", "memory"));
        var config = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "ConfigMap");
        foreach (var (name, _) in (YamlMappingNode)At(config, "data"))
        {
            AssertIsASetting(((YamlScalarNode)name).Value!);
        }
    }

    [Fact]
    public void SystemdUnit_RunsHardened()
    {
        var unit = File.ReadAllText(RepoFiles.Path("deploy/systemd/auditagent.service"));

        Assert.Contains("ExecStart=/usr/bin/dotnet /opt/auditagent/auditagent.dll run --config /etc/auditagent/appsettings.json", unit, StringComparison.Ordinal);
        foreach (var line in new[] { "User=auditagent", "ProtectSystem=strict", "PrivateTmp=true", "NoNewPrivileges=true", "Restart=on-failure" })
        {
            Assert.Contains(line, unit.Split('\n'));
        }

        foreach (var variable in EnvironmentVariable().Matches(unit).Select(m => m.Groups["name"].Value))
        {
            AssertIsASetting(variable);
        }
    }

    [Fact]
    public void Bicep_ContainerAppWithManagedIdentity_WithSettingsThatExist()
    {
        var bicep = File.ReadAllText(RepoFiles.Path("deploy/azure/containerapp.bicep"));

        Assert.Contains("type: 'SystemAssigned'", bicep, StringComparison.Ordinal);
        Assert.Contains("{ name: 'AUDITAGENT__GRAPH__CREDENTIAL', value: 'ManagedIdentity' }", bicep, StringComparison.Ordinal);
        foreach (var variable in BicepVariable().Matches(bicep).Select(m => m.Groups["name"].Value))
        {
            AssertIsASetting(variable);
        }
    }

    [Fact]
    public void Bicep_SentinelTableAndStream_HaveTheColumnsTheSinkSends()
    {
        var bicep = File.ReadAllText(RepoFiles.Path("deploy/azure/sentinel.bicep"));
        var declared = BicepColumn().Matches(bicep).Select(m => (m.Groups["name"].Value, m.Groups["type"].Value)).ToList();

        Assert.Equal(AuditAgent.Events.Sinks.SentinelSink.Columns, declared);
        Assert.Equal(AuditAgent.Simulator.SinkReceivers.LogsColumns.Keys.Order(StringComparer.Ordinal), declared.Select(c => c.Item1).Order(StringComparer.Ordinal));
        Assert.Contains("'3913510d-42f4-4e42-8a64-420c390055eb'", bicep, StringComparison.Ordinal); // Monitoring Metrics Publisher
        Assert.Contains("output sinkRuleId string = rule.properties.immutableId", bicep, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Scripts_PassShellcheck()
    {
        Skip.IfNot(File.Exists("/usr/bin/shellcheck"), "shellcheck is not installed here (.ci/run installs it)");
        var scripts = Directory.GetFiles(RepoFiles.Path("deploy/scripts"), "*.sh").Append(RepoFiles.Path(".ci/run")).ToList();
        var start = new ProcessStartInfo("shellcheck") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var script in scripts)
        {
            start.ArgumentList.Add(script);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output);
    }

    [GeneratedRegex(@"^RUN (?<args>dotnet publish [^\n]*?) -o /app\s*$", RegexOptions.Multiline)]
    private static partial Regex PublishLine();

    [GeneratedRegex(@"Environment=(?<name>AUDITAGENT__[A-Z0-9_]+)=")]
    private static partial Regex EnvironmentVariable();

    [GeneratedRegex(@"\{ name: '(?<name>\w+)', type: '(?<type>\w+)' \}")]
    private static partial Regex BicepColumn();

    [GeneratedRegex(@"name: '(?<name>AUDITAGENT__[A-Z0-9_]+)'")]
    private static partial Regex BicepVariable();
}
