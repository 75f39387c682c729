using System.Text.Json.Nodes;
using DinCluster.Core.Features;

namespace DinCluster.Core.Tests.Features;

public sealed class FeatureSchemaTests
{
    [Fact]
    public void Default_schema_shares_item_and_category_tables_with_histories()
    {
        var s = FeatureSchema.Default();
        Assert.Equal(["user", "item", "category"], s.Tables.Select(t => t.Name));
        Assert.All(s.Tables, t => Assert.Equal(64, t.Dim));
        Assert.Equal(["user_id"], s.OtherSparse.Select(f => f.Name));
        Assert.Equal(2, s.HistoryPairs.Count);
    }

    [Fact]
    public void Json_round_trip_keeps_every_column_when_extra_columns_are_declared()
    {
        var json = """
            { "features": [
                { "type": "sparse", "name": "user_id", "table": "user", "dim": 8 },
                { "type": "sparse", "name": "gender", "table": "gender", "dim": 4 },
                { "type": "sparse", "name": "item_id", "table": "item", "dim": 8 },
                { "type": "varlen", "name": "hist_item_id", "table": "item", "maxlen": 20 },
                { "type": "dense", "name": "price", "dimension": 1 } ],
              "history_pairs": [["item_id", "hist_item_id"]] }
            """;
        var schema = FeatureSchemaJson.Parse(JsonNode.Parse(json)!, "test.json");
        Assert.Equal(["user_id", "gender"], schema.OtherSparse.Select(f => f.Name));
        Assert.Equal("price", Assert.Single(schema.Dense).Name);
        var again = FeatureSchemaJson.Parse(FeatureSchemaJson.ToJson(schema), "again");
        Assert.Equal(schema.Sparse, again.Sparse);
        Assert.Equal(schema.VarLen, again.VarLen);
        Assert.Equal(schema.Dense, again.Dense);
        Assert.Equal(schema.HistoryPairs, again.HistoryPairs);
    }

    [Theory]
    [InlineData("""{ "features": [ { "type": "sparse", "name": "a", "table": "t" } ] }""", "test.json: features[0].dim is missing")]
    [InlineData("""{ "features": [ { "type": "bucket", "name": "a" } ] }""", "features[0].type is 'bucket'")]
    [InlineData("""{ "features": [ { "type": "sparse", "name": "a", "table": "t", "dim": 4 }, { "type": "varlen", "name": "h", "table": "u", "maxlen": 3 } ], "history_pairs": [["a","h"]] }""", "uses table 'u', which no sparse feature declares")]
    [InlineData("""{ "features": [ { "type": "sparse", "name": "a", "table": "t", "dim": 4 }, { "type": "sparse", "name": "b", "table": "t", "dim": 8 } ] }""", "table 't' is used with dim 4 and dim 8")]
    public void Parse_names_the_problem_when_schema_is_wrong(string json, string expected)
    {
        var e = Assert.Throws<SchemaException>(() => FeatureSchemaJson.Parse(JsonNode.Parse(json)!, "test.json"));
        Assert.Contains(expected, e.Message);
    }
}
