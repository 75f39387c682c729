using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using DinCluster.Cli.Commands;
using DinCluster.Cli.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Deployment;

/// <summary>
/// docker-compose.yml, the Dockerfile and docs/docker.md against the environment contract
/// (<see cref="EnvironmentContract"/>): what the containers set is what the commands read, and
/// everything the commands read is documented. No Docker engine is needed.
/// </summary>
public sealed partial class ComposeFileTests(ITestOutputHelper output)
{
    private static string ComposePath => Path.Combine(Repo.Root, "docker-compose.yml");
    private static ComposeFile Compose => ComposeFile.Read(ComposePath);
    private static HashSet<string> Contract => EnvironmentContract.Variables.Select(v => v.Name).ToHashSet();

    [Fact]
    public void Docker_compose_config_accepts_the_compose_file_when_docker_compose_is_installed()
    {
        // Installs nothing: scripts/test installs Debian's docker-compose (best effort) for CI.
        (int Code, string Stdout, string Stderr) result;
        try
        {
            result = Run("docker-compose", ["-f", ComposePath, "config", "-q"]);
        }
        catch (Win32Exception e)
        {
            output.WriteLine($"SKIPPED: docker-compose is not installed ({e.Message}); scripts/test installs Debian's docker-compose package");
            return;
        }
        Assert.True(result.Code == 0, $"docker-compose config -q exited {result.Code}:\n{result.Stderr}{result.Stdout}");
        output.WriteLine($"docker-compose config -q: ok {result.Stderr.Trim()}");

        // The resolved file (anchors, interpolation, list-form environments normalised) sets the same
        // variables per service as our text reading sees, so the contract tests below read it right.
        var resolved = Run("docker-compose", ["-f", ComposePath, "config"]);
        Assert.Equal(0, resolved.Code);
        var fromConfig = ComposeFile.Parse(resolved.Stdout.Split('\n'));
        foreach (var service in Compose.Services)
            Assert.Equal(service.Environment.Keys.Order(StringComparer.Ordinal), fromConfig[service.Name].Environment.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Compose.Services.Select(s => s.Name).Order(StringComparer.Ordinal), fromConfig.Services.Select(s => s.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Compose_file_sets_only_variables_of_the_contract_when_read_service_by_service()
    {
        var compose = Compose;
        Assert.NotEmpty(compose.Services);
        foreach (var service in compose.Services)
        {
            foreach (var name in service.Environment.Keys.Where(k => k.StartsWith("DINCLUSTER_", StringComparison.Ordinal)))
            {
                Assert.True(Contract.Contains(name), $"service '{service.Name}' sets {name}, which no dincluster command reads (EnvironmentContract)");
                // The image's entrypoint runs `dincluster COMMAND`; an overridden entrypoint runs something else.
                var command = service.EntrypointOverridden ? null : service.Command ?? "node";
                var variable = EnvironmentContract.Variables.Single(v => v.Name == name);
                Assert.True(command is not null && variable.Commands.Contains(command),
                    $"service '{service.Name}' runs `{command ?? "(own entrypoint)"}` and sets {name}, which only `{string.Join("`, `", variable.Commands)}` read");
            }
        }
    }

    [Fact]
    public void Compose_file_wires_every_node_to_the_coordinator_seed_when_parsed()
    {
        var compose = Compose;
        var coordinator = compose["coordinator"];
        Assert.Equal("train", coordinator.Command);
        var seed = coordinator.Environment[EnvironmentContract.Seeds];
        // The seed advertises exactly the address the seed list names, on the port it binds.
        Assert.Equal($"{coordinator.Environment[EnvironmentContract.Hostname]}:{coordinator.Environment[EnvironmentContract.Port]}", seed);
        Assert.Equal("docker", coordinator.Environment[EnvironmentContract.Deployment]);
        Assert.StartsWith("/data/", coordinator.Environment[EnvironmentContract.Data], StringComparison.Ordinal);
        Assert.StartsWith("/runs/", coordinator.Environment[EnvironmentContract.Out], StringComparison.Ordinal);
        foreach (var role in new[] { "data", "ps", "worker" })
        {
            var node = compose[role];
            Assert.Equal("node", node.Command);
            Assert.Equal(role, node.Environment[EnvironmentContract.Role]);
            Assert.Equal(seed, node.Environment[EnvironmentContract.Seeds]);
            Assert.Equal("docker", node.Environment[EnvironmentContract.Deployment]);
        }
        // Replicas share the service name: a fixed advertised name would make them one address.
        Assert.False(compose["worker"].Environment.ContainsKey(EnvironmentContract.Hostname));
        Assert.False(compose["worker"].Environment.ContainsKey(EnvironmentContract.PublicHostname));
    }

    [Fact]
    public void Compose_file_lets_workers_scale_when_checked_for_fixed_names_and_host_ports()
    {
        var worker = ServiceText("worker");
        Assert.DoesNotContain("container_name:", worker, StringComparison.Ordinal);
        Assert.DoesNotContain("ports:", worker, StringComparison.Ordinal);
        Assert.DoesNotContain("hostname:", worker, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_sets_only_variables_of_the_contract_when_it_sets_defaults()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Repo.Root, "Dockerfile"));
        var set = VariablePattern().Matches(dockerfile).Select(m => m.Value).ToHashSet();
        Assert.Contains(EnvironmentContract.Deployment, set);
        Assert.Empty(set.Except(Contract));
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"dincluster.dll\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("CMD [\"node\"]", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Docker_doc_documents_every_contract_variable_when_compared_with_the_contract()
    {
        var doc = File.ReadAllText(Path.Combine(Repo.Root, "docs", "docker.md"));
        var tableRows = doc.Split('\n').Where(l => l.StartsWith("| `DINCLUSTER_", StringComparison.Ordinal))
            .Select(l => VariablePattern().Match(l).Value).ToList();
        Assert.Equal(Contract.Order(StringComparer.Ordinal), tableRows.Order(StringComparer.Ordinal));
        // Nothing the doc mentions is outside the contract (a renamed variable would linger here).
        Assert.Empty(VariablePattern().Matches(doc).Select(m => m.Value).ToHashSet().Except(Contract));
    }

    [Fact]
    public void Node_help_lists_every_variable_node_reads_when_printed()
    {
        foreach (var v in EnvironmentContract.For("node"))
            Assert.Contains(v.Name, NodeCommand.Help, StringComparison.Ordinal);
        foreach (var v in EnvironmentContract.For("train"))
            Assert.Contains(v.Name, TrainCommand.Help, StringComparison.Ordinal);
        Assert.All(EnvironmentContract.Variables, v =>
        {
            Assert.False(string.IsNullOrWhiteSpace(v.Description), $"{v.Name} has no description");
            Assert.NotEmpty(v.Commands);
        });
    }

    /// <summary>The lines of one service in docker-compose.yml (from its name to the next top-level key).</summary>
    private static string ServiceText(string name)
    {
        var lines = File.ReadAllLines(ComposePath);
        var start = Array.IndexOf(lines, $"  {name}:");
        Assert.True(start >= 0, $"no service '{name}' in docker-compose.yml");
        var end = start + 1;
        while (end < lines.Length && (lines[end].Length == 0 || lines[end].StartsWith("    ", StringComparison.Ordinal) || lines[end].TrimStart().StartsWith('#')))
            end++;
        return string.Join('\n', lines[start..end]);
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 1 minute");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [GeneratedRegex("DINCLUSTER_[A-Z0-9_]*[A-Z0-9]")]
    private static partial Regex VariablePattern();
}
