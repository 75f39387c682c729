using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// One row of the fault-injection suite's table: DINCLUSTER_FAULT_REPORT_DIR/&lt;scenario&gt;.json
/// (default TestResults/fault-suite under the repository root), printed by scripts/fault-suite.
/// </summary>
public sealed record FaultReport(
    string Scenario,
    string Outcome,
    long? SamplesConsumed,
    long? SamplesExpected,
    long? SamplesReplayed,
    double? TestAuc,
    double? BaselineAuc,
    double? RecoverySeconds,
    string Note)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Notes are plain text for people and scripts: keep ' and > as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Folder =>
        Environment.GetEnvironmentVariable("DINCLUSTER_FAULT_REPORT_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(LocalClusterScript.RepoRoot, "TestResults", "fault-suite");

    /// <summary>Writes the row (replacing an older one of the scenario); returns its path.</summary>
    public string Write()
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, Scenario + ".json");
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
        return path;
    }
}
