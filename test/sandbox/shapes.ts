// Where Teamwork's own sources disagree on a response shape, the sandbox answers in one of the
// shapes they show, chosen by `shapeSeed` (a runtime option), so tests cover every one. Each bit
// of the seed picks one disagreement:
//
//   bit 0  article envelope key: `helpdocarticle` (desksdkgo client/helpdocarticles_test.go, the facts
//          file) | `helpDocArticle` (desksdkgo models/helpdocarticle.go, Teamwork/mcp helpdocs_test.go)
//   bit 1  custom-field `inboxes`: refs `{id, type}` (desksdkgo models/base.go EntityRef) | plain ids
//          (Teamwork's request example "Create a new customfield (Dropdown type).js")
//   bit 2  a file's name: `fileName` (apidocs files/ref answer) | `filename` (desksdkgo models/file.go)
//
// shapeSeed 0 is the facts file's shape everywhere; 7 is every other one.

export interface WireShapes {
  articleKey: 'helpdocarticle' | 'helpDocArticle';
  customFieldInboxes: 'refs' | 'ids';
  fileNameKey: 'fileName' | 'filename';
}

export function wireShapes(seed: number): WireShapes {
  return {
    articleKey: seed & 1 ? 'helpDocArticle' : 'helpdocarticle',
    customFieldInboxes: seed & 2 ? 'ids' : 'refs',
    fileNameKey: seed & 4 ? 'filename' : 'fileName',
  };
}
