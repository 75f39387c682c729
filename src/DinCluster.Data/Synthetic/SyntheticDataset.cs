using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DinCluster.Data;

/// <summary>One split of a synthetic dataset; files relative to the dataset directory.</summary>
public sealed record SyntheticSplit(long Samples, long Positives, IReadOnlyList<string> Files)
{
    public double PositiveRate => Samples == 0 ? 0 : (double)Positives / Samples;
}

/// <summary>
/// DIR/dataset.json of a generated dataset. <see cref="BayesTestAuc"/> is the AUC of the true
/// click probabilities (the <see cref="PTrueColumn"/> column of the files) on the test labels: no
/// model can beat it in expectation. <see cref="BayesTestLogLoss"/> likewise.
/// </summary>
public sealed record SyntheticDataset(
    string Generator,
    SyntheticSettings Settings,
    SyntheticSplit Train,
    SyntheticSplit Test,
    double MeanHistoryLength,
    double BayesTestAuc,
    double BayesTestLogLoss,
    string PTrueColumn,
    string ClickModel)
{
    public const string FileName = "dataset.json";

    // Source-generated metadata, so dataset.json also works in trimmed/AOT builds; relaxed escaping keeps
    // the click model formula readable ("+" rather than "\u002B").
    private static readonly JsonSerializerOptions Json = new()
    {
        TypeInfoResolver = SyntheticJson.Default,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public void Save(string dir) =>
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json.GetTypeInfo(typeof(SyntheticDataset))));

    public static SyntheticDataset Load(string dir) =>
        JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(dir, FileName)), Json.GetTypeInfo(typeof(SyntheticDataset))) as SyntheticDataset
        ?? throw new InvalidDataException($"{Path.Combine(dir, FileName)} is empty");
}

[JsonSerializable(typeof(SyntheticDataset))]
internal sealed partial class SyntheticJson : JsonSerializerContext;
