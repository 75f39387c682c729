using System.Text.Json;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;

namespace DinCluster.Cluster.Serving;

/// <summary>
/// The JSON body of <c>POST /predict</c>: one sample as an object, or a batch as an array of them.
/// A sample names every feature of the model's schema:
/// <code>
///   {"user_id": 7, "item_id": 31, "category_id": 2,
///    "hist_item_id": [5, 9, 31], "hist_category_id": [1, 2, 2],   oldest first, may be []
///    "price": 0.5, "embedding_x": [0.1, 0.2]}                    dense: a number (dimension 1) or an array
/// </code>
/// Ids are JSON integers (int64); histories longer than the feature's maxlen keep the most recent
/// ids (as the Parquet reader does). "label" and "timestamp" may be present and are ignored; any
/// other unknown field is refused, so a misspelt feature is not silently scored as missing.
/// </summary>
public static class ScoringRequest
{
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "label", "timestamp" };

    /// <summary>The samples of a request body as one batch; <c>IsArray</c> says which response shape to send.</summary>
    /// <exception cref="ScoringRequestException">The body is not JSON, or a field is missing or wrong; the message names it.</exception>
    public static (Batch Batch, bool IsArray) Parse(ReadOnlySpan<byte> body, FeatureSchema schema, int maxSamples)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new ScoringRequestException($"body is not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    return (Build([root], schema, prefix: _ => ""), false);
                case JsonValueKind.Array:
                    var count = root.GetArrayLength();
                    if (count == 0) throw new ScoringRequestException("the array holds no samples");
                    if (count > maxSamples) throw new ScoringRequestException($"the array holds {count} samples, at most {maxSamples} per request");
                    var samples = root.EnumerateArray().ToList();
                    for (var i = 0; i < samples.Count; i++)
                        if (samples[i].ValueKind != JsonValueKind.Object)
                            throw new ScoringRequestException($"[{i}]: is {Kind(samples[i])}, must be an object");
                    return (Build(samples, schema, prefix: i => $"[{i}]."), true);
                default:
                    throw new ScoringRequestException($"body is {Kind(root)}, must be an object (one sample) or an array of objects");
            }
        }
    }

    private static Batch Build(IReadOnlyList<JsonElement> samples, FeatureSchema schema, Func<int, string> prefix)
    {
        var count = samples.Count;
        var sparse = schema.Sparse.Select(_ => new long[count]).ToArray();
        var dense = schema.Dense.Select(d => new float[count * d.Dimension]).ToArray();
        var lengths = schema.VarLen.Select(_ => new int[count]).ToArray();
        var values = schema.VarLen.Select(_ => new List<long>()).ToArray();
        var known = new HashSet<string>(schema.Sparse.Select(s => s.Name).Concat(schema.VarLen.Select(v => v.Name)).Concat(schema.Dense.Select(d => d.Name)), StringComparer.Ordinal);

        for (var i = 0; i < count; i++)
        {
            var sample = samples[i];
            var at = prefix(i);
            foreach (var property in sample.EnumerateObject())
                if (!known.Contains(property.Name) && !Ignored.Contains(property.Name))
                    throw new ScoringRequestException($"{at}{property.Name}: unknown field; the model's features are {string.Join(", ", known)}");
            for (var f = 0; f < schema.Sparse.Count; f++)
                sparse[f][i] = Id(Field(sample, schema.Sparse[f].Name, at), $"{at}{schema.Sparse[f].Name}");
            for (var f = 0; f < schema.Dense.Count; f++)
            {
                var feature = schema.Dense[f];
                var name = $"{at}{feature.Name}";
                var value = Field(sample, feature.Name, at);
                var into = dense[f].AsSpan(i * feature.Dimension, feature.Dimension);
                if (value.ValueKind == JsonValueKind.Number && feature.Dimension == 1)
                {
                    into[0] = Finite(value, name);
                    continue;
                }
                if (value.ValueKind != JsonValueKind.Array)
                    throw new ScoringRequestException($"{name}: is {Kind(value)}, must be {(feature.Dimension == 1 ? "a number" : $"an array of {feature.Dimension} numbers")}");
                if (value.GetArrayLength() != feature.Dimension)
                    throw new ScoringRequestException($"{name}: holds {value.GetArrayLength()} numbers, must hold {feature.Dimension}");
                var k = 0;
                foreach (var e in value.EnumerateArray()) into[k] = Finite(e, $"{name}[{k++}]");
            }
            for (var v = 0; v < schema.VarLen.Count; v++)
            {
                var feature = schema.VarLen[v];
                var name = $"{at}{feature.Name}";
                var value = Field(sample, feature.Name, at);
                if (value.ValueKind != JsonValueKind.Array)
                    throw new ScoringRequestException($"{name}: is {Kind(value)}, must be an array of integer ids (oldest first, may be empty)");
                var length = value.GetArrayLength();
                var skip = Math.Max(0, length - feature.MaxLen);   // most recent maxlen ids kept
                var k = 0;
                foreach (var e in value.EnumerateArray())
                {
                    var id = Id(e, $"{name}[{k}]");
                    if (k++ >= skip) values[v].Add(id);
                }
                lengths[v][i] = length - skip;
            }
            foreach (var pair in schema.HistoryPairs)
            {
                var a = lengths[schema.VarLenIndex(pair.History)][i];
                foreach (var other in schema.HistoryPairs)
                {
                    var b = lengths[schema.VarLenIndex(other.History)][i];
                    if (a != b)
                        throw new ScoringRequestException($"{at}{pair.History}: has {sample.GetProperty(pair.History).GetArrayLength()} ids, {at}{other.History} has {sample.GetProperty(other.History).GetArrayLength()}; paired histories must have equal lengths");
                }
            }
        }
        return new Batch
        {
            BatchId = 0,
            Count = count,
            Sparse = sparse,
            Dense = dense,
            Lengths = lengths,
            Values = values.Select(l => l.ToArray()).ToArray(),
            Labels = new float[count],
        };
    }

    private static JsonElement Field(JsonElement sample, string name, string at) =>
        sample.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new ScoringRequestException($"{at}{name}: missing");

    private static long Id(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var id)
            ? id
            : throw new ScoringRequestException($"{name}: is {Describe(value)}, must be an integer id (int64)");

    private static float Finite(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d))
            throw new ScoringRequestException($"{name}: is {Kind(value)}, must be a number");
        var f = (float)d;
        return float.IsFinite(f) ? f : throw new ScoringRequestException($"{name}: is {d}, outside the float range");
    }

    private static string Describe(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? $"{value.GetRawText()}" : Kind(value);

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>A request the server answers with 400; the message names the field (e.g. "[3].hist_item_id[2]: is a string, ...").</summary>
public sealed class ScoringRequestException(string message) : Exception(message);
