"""The compatibility matrix: ``model`` (typed records), ``read`` (strict YAML reading helpers),
``load`` (matrix.yaml -> Matrix, with the parse cache), ``check`` (cross-record consistency)."""
