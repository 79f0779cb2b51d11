// Help texts of `movierec local` and `movierec upload`, kept apart from the commands so that registering them
// in bin/cli.ts loads nothing else (the commands themselves are imported only when run).
export const LOCAL_SUMMARY = 'the whole system offline: emulators, training on upload, the API (npm start)';
export const UPLOAD_SUMMARY = "upload a ratings file to the local stack's bucket and wait for its model";

export const LOCAL_HELP = `movierec local [--port 3000] [--s3-port 4569] [--fresh] [--ratings FILE] [--data-dir .local] [--training-memory MB] [--verbose]
                [--distributed | --distribute-above BYTES] [--shards N]
  The whole system offline (this is what \`npm start\` runs): DynamoDB (dynalite) and S3 (s3rver) emulators on
  loopback, the training handler fed by the bucket's upload events, the API handler behind an API Gateway-style
  adapter on http://localhost:PORT. Data stays in --data-dir across restarts.
  --port N          API port (default: $PORT, else 3000; 0 = any free port)
  --s3-port N       local S3 port (default 4569; 0 = any free port)
  --fresh           wipe the stored tables and bucket first (the saved API key stays)
  --ratings FILE    upload this ratings file at start (default, on first start: a generated sample)
  --sample-users N  users in the generated sample (default 3000)
  --data-dir DIR    where data, the API key and stack.json live (default .local)
  --stage dev|prod  the stage mirrored: table and bucket names, training parameters and retries (lib/config.ts)
  --training-memory MB
                    memory of the training process, which sizes its input bound (default: the stage's training
                    Lambda memory, 3008; at most what the machine has free)
  --verbose         also print the handlers' Lambda-style JSON logs
  --distributed     train every upload on the training state machine (the definition synthesized from the
                    stack, run by the offline executor with the real handlers), as TRAINING_MODE=distributed does
  --distribute-above BYTES  only uploads larger than this go to the state machine (TRAINING_MODE=auto)
  --shards N        with either: partitions per training (default: sized from the upload)
  Each training runs in its own process at a lower CPU priority (as the training Lambda runs apart from the
  API); upload events are queued under DATA_DIR/queue until trained, so an upload interrupted by a stop or a
  crash is trained again on the next start.
  The API key is MOVIEREC_API_KEY if set, else one generated on first start and saved in DATA_DIR/api-key.
  TRAINING_PARAMS (JSON, as in the stack) replaces the stage's training parameters, e.g. '{"algorithm":"seed"}'.
  EXPORT_TOP_N=10 writes every user's top 10 to exports/<version>/recommendations.csv.gz after each publish
  (the stage's setting otherwise: off in dev).`;

export const UPLOAD_HELP = `movierec upload FILE [--key uploads/NAME] [--data-dir .local] [--no-wait] [--force] [--timeout 600]
  Upload a ratings file to the running local stack (npm start) as s3://BUCKET/uploads/<file name>.
  The upload event trains a new model; this waits until it is live (or prints why the file was refused).
  --force           replace the active model even if the file has under half its users or scores below
                    most-popular on its hold-out (the S3 metadata movierec-force=true, as in AWS)
  The same with plain curl: curl -T FILE http://localhost:4569/BUCKET/uploads/NAME`;
